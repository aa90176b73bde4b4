-- The registry's populateBlobsIDColumn, batched by limit (blobs have no integer key): an id from
-- blobs_id_seq for at most $1 blobs whose id is still NULL, found through the partial index on
-- (id) WHERE id IS NULL. A row given an id leaves the predicate, so none is changed twice;
-- (tableoid, ctid) names a row of a partitioned parent as well as of one partition.
UPDATE {{table}} SET {{column}} = nextval('blobs_id_seq')
WHERE (tableoid, ctid) IN (SELECT tableoid, ctid FROM {{table}} WHERE {{column}} IS NULL LIMIT $1)
