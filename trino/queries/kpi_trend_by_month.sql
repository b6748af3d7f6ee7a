-- answers: How do in-hospital mortality, 30-day readmission, hospital-acquired infection and average length of stay move month by month (by discharge month, UTC), each with its numerator and denominator?
SELECT
    discharge_month,
    ${kpi_columns}
FROM ${gold_database}.${kpi_table}
GROUP BY discharge_month
ORDER BY discharge_month
