-- answers: Which data-quality rules did each silver run find broken, and on how many rows (rows are flagged, never dropped)?
-- param: max_rows integer 200
SELECT
    a.run_id,
    a.started_at,
    a.status,
    q.rule,
    q.flagged_rows
FROM ${silver_database}.${silver_audit_table} AS a
CROSS JOIN UNNEST(CAST(json_extract(a.details, '$.quality_flags') AS MAP(VARCHAR, BIGINT))) AS q (rule, flagged_rows)
WHERE a.status = 'SUCCEEDED'
ORDER BY a.started_at DESC, q.rule
LIMIT ${max_rows}
