-- answers: How does each hospital do on every KPI over the whole period, with its denominators and its name from the silver organization table?
WITH names AS (
    SELECT id, max(name) AS hospital_name
    FROM ${silver_database}.organization
    GROUP BY id
)
SELECT
    k.hospital_id,
    coalesce(n.hospital_name, k.hospital_id) AS hospital_name,
    sum(k.stays) AS stays,
    sum(k.deaths) AS deaths,
    CAST(sum(k.deaths) AS DOUBLE) / nullif(sum(k.stays), 0) AS mortality_rate,
    sum(k.readmission_index) AS readmission_index,
    sum(k.readmissions) AS readmissions,
    CAST(sum(k.readmissions) AS DOUBLE) / nullif(sum(k.readmission_index), 0) AS readmission_rate,
    sum(k.hai_denominator) AS hai_denominator,
    sum(k.hai_stays) AS hai_stays,
    CAST(sum(k.hai_stays) AS DOUBLE) / nullif(sum(k.hai_denominator), 0) AS hai_rate,
    sum(k.los_days_sum) / nullif(sum(k.stays), 0) AS alos_days
FROM ${gold_database}.${kpi_table} AS k
LEFT JOIN names AS n ON n.id = k.hospital_id
GROUP BY k.hospital_id, n.hospital_name
ORDER BY k.hospital_id
