"""Reading the gold layer back for people: KPI summaries through the SQL engine (Trino here, Athena on AWS)."""
