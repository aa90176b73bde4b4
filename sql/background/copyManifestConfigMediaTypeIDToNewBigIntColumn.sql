-- The registry's copyManifestConfigMediaTypeIDToNewBigIntColumn: each manifest's configuration
-- media type id into its bigint twin, for the ids in [$1, $2].
UPDATE {{table}} SET configuration_media_type_id_convert_to_bigint = configuration_media_type_id
WHERE {{column}} BETWEEN $1 AND $2
  AND configuration_media_type_id_convert_to_bigint IS DISTINCT FROM configuration_media_type_id
