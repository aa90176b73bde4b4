-- The registry's copyBlobMediaTypeIDToNewBigIntColumn: each blob's media type id into its bigint
-- twin, for the ids in [$1, $2].
UPDATE {{table}} SET media_type_id_convert_to_bigint = media_type_id
WHERE {{column}} BETWEEN $1 AND $2 AND media_type_id_convert_to_bigint IS DISTINCT FROM media_type_id
