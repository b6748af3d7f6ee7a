-- answers: Which hospitals have the highest hospital-acquired infection rate, among those with enough eligible stays to judge, and on how many stays is each rate based?
-- param: min_denominator integer 20 (hospitals with fewer HAI-eligible stays are left out)
-- param: max_rows integer 10
WITH names AS (
    SELECT id, max(name) AS hospital_name
    FROM ${silver_database}.organization
    GROUP BY id
),
by_hospital AS (
    SELECT
        hospital_id,
        sum(hai_denominator) AS hai_denominator,
        sum(hai_stays) AS hai_stays,
        sum(stays) AS stays
    FROM ${gold_database}.${kpi_table}
    GROUP BY hospital_id
)
SELECT
    b.hospital_id,
    coalesce(n.hospital_name, b.hospital_id) AS hospital_name,
    b.hai_stays,
    b.hai_denominator,
    CAST(b.hai_stays AS DOUBLE) / b.hai_denominator AS hai_rate,
    b.stays
FROM by_hospital AS b
LEFT JOIN names AS n ON n.id = b.hospital_id
WHERE b.hai_denominator >= ${min_denominator}
ORDER BY hai_rate DESC, b.hai_denominator DESC, b.hospital_id
LIMIT ${max_rows}
