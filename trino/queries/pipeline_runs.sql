-- answers: What did the recent job runs of every layer do: status, duration, files, records in, rows out, quarantined and the error of a failed run?
-- param: max_rows integer 50
SELECT layer, run_id, status, started_at, ended_at, round(duration_s, 1) AS seconds, files, records_in, rows_out,
       quarantined, error
FROM (
    SELECT layer, run_id, status, started_at, ended_at, duration_s, files, records_in, rows_out, quarantined, error
    FROM ${bronze_database}.${bronze_audit_table}
    UNION ALL
    SELECT layer, run_id, status, started_at, ended_at, duration_s, files, records_in, rows_out, quarantined, error
    FROM ${silver_database}.${silver_audit_table}
    UNION ALL
    SELECT layer, run_id, status, started_at, ended_at, duration_s, files, records_in, rows_out, quarantined, error
    FROM ${gold_database}.${gold_audit_table}
) AS runs
ORDER BY started_at DESC
LIMIT ${max_rows}
