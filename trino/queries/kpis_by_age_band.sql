-- answers: How do the KPIs differ by age band at admission (completed years), with their denominators?
SELECT
    age_band,
    ${kpi_columns}
FROM ${gold_database}.${kpi_table}
GROUP BY age_band
ORDER BY age_band
