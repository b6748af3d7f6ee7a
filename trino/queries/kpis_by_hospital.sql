-- answers: How does each hospital do on every KPI over the whole period, with its denominators and its name from the silver organization table?
WITH names AS (
    SELECT id, max(name) AS hospital_name
    FROM ${silver_database}.organization
    GROUP BY id
)
SELECT
    k.hospital_id,
    coalesce(n.hospital_name, k.hospital_id) AS hospital_name,
    ${kpi_columns}
FROM ${gold_database}.${kpi_table} AS k
LEFT JOIN names AS n ON n.id = k.hospital_id
GROUP BY k.hospital_id, n.hospital_name
ORDER BY k.hospital_id
