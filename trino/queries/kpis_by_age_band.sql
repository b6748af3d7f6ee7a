-- answers: How do the KPIs differ by age band at admission (completed years), with their denominators?
SELECT
    age_band,
    sum(stays) AS stays,
    sum(deaths) AS deaths,
    CAST(sum(deaths) AS DOUBLE) / nullif(sum(stays), 0) AS mortality_rate,
    sum(readmission_index) AS readmission_index,
    sum(readmissions) AS readmissions,
    CAST(sum(readmissions) AS DOUBLE) / nullif(sum(readmission_index), 0) AS readmission_rate,
    sum(hai_denominator) AS hai_denominator,
    sum(hai_stays) AS hai_stays,
    CAST(sum(hai_stays) AS DOUBLE) / nullif(sum(hai_denominator), 0) AS hai_rate,
    sum(los_days_sum) / nullif(sum(stays), 0) AS alos_days
FROM ${gold_database}.${kpi_table}
GROUP BY age_band
ORDER BY age_band
