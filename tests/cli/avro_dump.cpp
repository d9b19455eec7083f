// avro_dump FILE: prints the writer schema and then every record of an Avro object container
// file as one JSON line (avro-c's own reader), so that tests can compare Avro exports by content:
// the files of two runs differ in their sync markers and block boundaries even with equal rows.
#include <avro.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: avro_dump FILE\n");
        return 2;
    }
    avro_file_reader_t reader;
    if (avro_file_reader(argv[1], &reader) != 0) {
        fprintf(stderr, "avro_dump: %s: %s\n", argv[1], avro_strerror());
        return 1;
    }
    avro_schema_t schema = avro_file_reader_get_writer_schema(reader);
    char schema_json[65536];
    avro_writer_t schema_out = avro_writer_memory(schema_json, sizeof schema_json - 1);
    if (avro_schema_to_json(schema, schema_out) != 0) {
        fprintf(stderr, "avro_dump: schema: %s\n", avro_strerror());
        return 1;
    }
    schema_json[avro_writer_tell(schema_out)] = '\0';
    printf("%s\n", schema_json);
    avro_writer_free(schema_out);

    avro_value_iface_t* iface = avro_generic_class_from_schema(schema);
    avro_value_t value;
    avro_generic_value_new(iface, &value);
    long records = 0;
    int rc;
    while ((rc = avro_file_reader_read_value(reader, &value)) == 0) {
        char* json = NULL;
        if (avro_value_to_json(&value, 1, &json) != 0) {
            fprintf(stderr, "avro_dump: record %ld: %s\n", records, avro_strerror());
            return 1;
        }
        printf("%s\n", json);
        free(json);
        ++records;
    }
    if (rc != EOF) {
        fprintf(stderr, "avro_dump: after %ld records: %s\n", records, avro_strerror());
        return 1;
    }
    avro_value_decref(&value);
    avro_value_iface_decref(iface);
    avro_schema_decref(schema);  // get_writer_schema returned a new reference
    avro_file_reader_close(reader);
    return 0;
}
