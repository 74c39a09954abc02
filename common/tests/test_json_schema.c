/*
 * test_json_schema.c - tests of the JSON-Schema subset validator
 * (common/src/json_schema.c).
 *
 * Each keyword is exercised with a document it accepts and one it
 * rejects, and every rejection is checked for the JSON pointer of the
 * violation (RFC 6901 escaping included) and the reason. Schemas using
 * keywords the validator does not implement must be refused, not
 * half-applied. The last test checks that common/schema/results.schema.json, as
 * compiled into the program, is itself a schema this validator fully
 * supports.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kvlabs/bench.h"
#include "kvlabs/json.h"
#include "kvlabs/kv.h"

static kv_json *J(const char *text)
{
    kv_json *v = NULL;
    cr_assert_eq(kv_json_parse(text, strlen(text), &v), KV_OK, "<%s>: %s", text, kv_last_error());
    return v;
}

/* Validate doc against schema; want_err NULL means it must pass, else the
 * error must be exactly want_err. */
static void check(const char *schema, const char *doc, const char *want_err)
{
    kv_json *s = J(schema), *d = J(doc);
    char err[256];
    int rc = kv_json_validate(s, d, err, sizeof err);
    if (want_err == NULL) {
        cr_assert_eq(rc, KV_OK, "schema %s doc %s: %s", schema, doc, err);
        cr_assert_str_eq(err, "");
    } else {
        cr_assert_eq(rc, KV_EINVAL, "schema %s accepted doc %s", schema, doc);
        cr_assert_str_eq(err, want_err, "schema %s doc %s", schema, doc);
        cr_assert_str_eq(kv_last_error(), want_err);
    }
    kv_json_free(s);
    kv_json_free(d);
}

Test(json_schema, type)
{
    check("{\"type\":\"string\"}", "\"x\"", NULL);
    check("{\"type\":\"string\"}", "1", ": expected string, got integer");
    check("{\"type\":\"integer\"}", "2", NULL);
    check("{\"type\":\"integer\"}", "2.0", NULL);
    check("{\"type\":\"integer\"}", "1e20", NULL);
    check("{\"type\":\"integer\"}", "2.5", ": expected integer, got number");
    check("{\"type\":\"number\"}", "2", NULL);
    check("{\"type\":\"number\"}", "\"2\"", ": expected number, got string");
    check("{\"type\":\"null\"}", "null", NULL);
    check("{\"type\":\"boolean\"}", "false", NULL);
    check("{\"type\":\"boolean\"}", "0", ": expected boolean, got integer");
    check("{\"type\":\"array\"}", "{}", ": expected array, got object");
    check("{\"type\":\"object\"}", "[]", ": expected object, got array");
    check("{\"type\":[\"integer\",\"null\"]}", "null", NULL);
    check("{\"type\":[\"integer\",\"null\"]}", "7", NULL);
    check("{\"type\":[\"integer\",\"null\"]}", "\"7\"", ": expected integer or null, got string");
}

Test(json_schema, enum_and_const)
{
    check("{\"enum\":[\"a\",1,null,{\"x\":[1]}]}", "\"a\"", NULL);
    check("{\"enum\":[\"a\",1,null,{\"x\":[1]}]}", "1.0", NULL);
    check("{\"enum\":[\"a\",1,null,{\"x\":[1]}]}", "{\"x\":[1]}", NULL);
    check("{\"enum\":[\"a\",1,null]}", "\"b\"", ": value is not one of the schema's enum values");
    check("{\"const\":1}", "1", NULL);
    check("{\"const\":1}", "2", ": value differs from the schema's const");
    check("{\"const\":{\"a\":[true]}}", "{\"a\":[true]}", NULL);
}

Test(json_schema, minimum_maximum)
{
    check("{\"minimum\":0,\"maximum\":10}", "0", NULL);
    check("{\"minimum\":0,\"maximum\":10}", "10", NULL);
    check("{\"minimum\":0,\"maximum\":10}", "-1", ": -1 is less than the minimum 0");
    check("{\"minimum\":0,\"maximum\":10}", "10.5", ": 10.5 is greater than the maximum 10");
    check("{\"minimum\":0.5}", "0.25", ": 0.25 is less than the minimum 0.5");
    check("{\"minimum\":0}", "\"not a number\"", NULL); /* applies to numbers only */
    /* Exact for integers beyond 2^53. */
    check("{\"maximum\":9007199254740992}", "9007199254740993",
          ": 9007199254740993 is greater than the maximum 9007199254740992");
}

Test(json_schema, min_length_counts_characters)
{
    check("{\"minLength\":2}", "\"ab\"", NULL);
    check("{\"minLength\":2}", "\"\xc3\xa9\"", ": string is shorter than minLength 2"); /* 1 char, 2 bytes */
    check("{\"minLength\":2}", "\"\xc3\xa9\xc3\xa9\"", NULL);
    check("{\"minLength\":1}", "\"\"", ": string is shorter than minLength 1");
    check("{\"minLength\":5}", "12", NULL);
}

Test(json_schema, objects)
{
    const char *s = "{\"type\":\"object\",\"required\":[\"a\",\"b\"],"
                    "\"properties\":{\"a\":{\"type\":\"integer\",\"minimum\":0},"
                    "\"b\":{\"type\":\"object\",\"properties\":{\"c\":{\"type\":\"string\"}},"
                    "\"additionalProperties\":false}},"
                    "\"additionalProperties\":false}";
    check(s, "{\"a\":1,\"b\":{}}", NULL);
    check(s, "{\"a\":1,\"b\":{\"c\":\"x\"}}", NULL);
    check(s, "{\"b\":{}}", "/a: required property is missing");
    check(s, "{\"a\":-1,\"b\":{}}", "/a: -1 is less than the minimum 0");
    check(s, "{\"a\":1,\"b\":{\"c\":1}}", "/b/c: expected string, got integer");
    check(s, "{\"a\":1,\"b\":{\"d\":1}}", "/b/d: additional property is not allowed");
    check(s, "{\"a\":1,\"b\":{},\"z\":0}", "/z: additional property is not allowed");
    /* additionalProperties as a schema; no additionalProperties at all. */
    check("{\"additionalProperties\":{\"type\":\"number\"}}", "{\"x\":1,\"y\":2.5}", NULL);
    check("{\"additionalProperties\":{\"type\":\"number\"}}", "{\"x\":1,\"y\":\"2\"}",
          "/y: expected number, got string");
    check("{\"properties\":{\"a\":{\"type\":\"null\"}}}", "{\"b\":1}", NULL);
    check("{\"required\":[\"a\"]}", "[]", NULL); /* applies to objects only */
}

Test(json_schema, pointer_escaping)
{
    check("{\"properties\":{\"a/b\":{\"properties\":{\"m~n\":{\"type\":\"null\"}}}}}",
          "{\"a/b\":{\"m~n\":1}}", "/a~1b/m~0n: expected null, got integer");
    check("{\"required\":[\"\"]}", "{}", "/: required property is missing");
}

Test(json_schema, items_and_boolean_schemas)
{
    const char *s = "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"id\"]}}";
    check(s, "[]", NULL);
    check(s, "[{\"id\":1},{\"id\":2}]", NULL);
    check(s, "[{\"id\":1},{\"id\":2},{}]", "/2/id: required property is missing");
    check("{\"properties\":{\"l\":{\"items\":{\"maximum\":3}}}}", "{\"l\":[1,2,3,4]}",
          "/l/3: 4 is greater than the maximum 3");
    check("true", "{\"anything\":[1]}", NULL);
    check("false", "1", ": no value is allowed here (schema false)");
    check("{\"properties\":{\"x\":false}}", "{\"x\":1}", "/x: no value is allowed here (schema false)");
    check("{\"properties\":{\"x\":false}}", "{}", NULL);
}

/* Schemas this validator cannot fully enforce are refused. */
static void schema_refused(const char *schema, const char *want)
{
    kv_json *s = J(schema), *d = J("{}");
    char err[256];
    cr_assert_eq(kv_json_validate(s, d, err, sizeof err), KV_EINVAL, "schema %s accepted", schema);
    cr_assert_str_eq(err, want, "schema %s", schema);
    kv_json_free(s);
    kv_json_free(d);
}

Test(json_schema, unsupported_or_malformed_schemas)
{
    schema_refused("{\"properties\":{\"x\":{\"pattern\":\"^a\"}}}",
                   "schema /properties/x/pattern: unsupported keyword \"pattern\"");
    schema_refused("{\"$ref\":\"#/x\"}", "schema /$ref: unsupported keyword \"$ref\"");
    schema_refused("{\"additionalproperties\":false}",
                   "schema /additionalproperties: unsupported keyword \"additionalproperties\"");
    schema_refused("{\"type\":\"int\"}", "schema /type: unknown type \"int\"");
    schema_refused("{\"type\":[]}", "schema /type: \"type\" must be a type name or a non-empty array of them");
    schema_refused("{\"type\":[\"string\",5]}", "schema /type: \"type\" lists an unknown type");
    schema_refused("{\"required\":\"a\"}", "schema /required: \"required\" must be an array of strings");
    schema_refused("{\"required\":[1]}", "schema /required: \"required\" must be an array of strings");
    schema_refused("{\"minimum\":\"0\"}", "schema /minimum: \"minimum\" must be a number");
    schema_refused("{\"minLength\":-1}", "schema /minLength: \"minLength\" must be a non-negative integer");
    schema_refused("{\"enum\":1}", "schema /enum: \"enum\" must be an array");
    schema_refused("{\"properties\":[]}", "schema /properties: \"properties\" must be an object");
    schema_refused("{\"items\":[{}]}",
                   "schema /items: \"items\" must be one schema (arrays are prefixItems, unsupported)");
    schema_refused("{\"additionalProperties\":1}",
                   "schema /additionalProperties: a schema must be an object or a boolean");
    schema_refused("[]", "schema : a schema must be an object or a boolean");
    /* Annotations are fine. */
    check("{\"$schema\":\"x\",\"$id\":\"y\",\"$comment\":\"c\",\"title\":\"t\","
          "\"description\":\"d\",\"default\":1,\"examples\":[1]}", "1", NULL);
}

Test(json_schema, arguments_and_truncation)
{
    kv_json *s = J("{\"properties\":{\"aaaaaaaaaaaaaaaa\":{\"type\":\"string\"}}}");
    kv_json *d = J("{\"aaaaaaaaaaaaaaaa\":1}");
    char small[8];
    cr_assert_eq(kv_json_validate(s, d, small, sizeof small), KV_EINVAL);
    cr_assert_str_eq(small, "/aaaaaa");
    cr_assert_eq(kv_json_validate(s, d, NULL, 0), KV_EINVAL, "err may be NULL");
    cr_assert(strstr(kv_last_error(), "expected string") != NULL);
    cr_assert_eq(kv_json_validate(NULL, d, small, sizeof small), KV_EINVAL);
    cr_assert_eq(kv_json_validate(s, NULL, NULL, 0), KV_EINVAL);
    kv_json_free(s);
    kv_json_free(d);
}

Test(json_schema, results_schema_is_fully_supported)
{
    kv_json *s = J(kv_results_schema_json), *d = J("{}");
    char err[256];
    /* Refused only for the document's content, not for the schema. */
    cr_assert_eq(kv_json_validate(s, d, err, sizeof err), KV_EINVAL);
    cr_assert_str_eq(err, "/schema_version: required property is missing");
    kv_json_free(d);
    kv_json_free(s);
}
