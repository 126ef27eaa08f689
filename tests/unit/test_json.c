/* Typed getters: absent and null leave the output alone, wrong types are code 7 naming the key. */
#include "helpers.h"

#include "cni/json.h"

static const char doc[] = "{\"s\":\"text\",\"i\":42,\"neg\":-7,\"r\":1.5,\"t\":true,\"f\":false,\"n\":null,"
			  "\"o\":{\"k\":1},\"a\":[1,2]}";

static void string_present_absent_and_null(void **state)
{
	(void)state;
	json_t *obj = load_json(doc);
	struct cni_error err = { 0 };
	const char *out = "untouched";

	assert_int_equal(cni_json_string(obj, "", "missing", &out, &err), 0);
	assert_string_equal(out, "untouched");
	assert_int_equal(cni_json_string(obj, "", "n", &out, &err), 0);
	assert_string_equal(out, "untouched");
	assert_int_equal(cni_json_string(obj, "", "s", &out, &err), 0);
	assert_string_equal(out, "text");
	assert_int_equal(err.code, CNI_OK);
	json_decref(obj);
}

static void wrong_type_names_key_and_value(void **state)
{
	(void)state;
	json_t *obj = load_json("{\"ipam\":{\"type\":5}}");
	json_t *ipam = json_object_get(obj, "ipam");
	struct cni_error err = { 0 };
	const char *out = "untouched";

	assert_int_equal(cni_json_string(ipam, "ipam", "type", &out, &err), -1);
	assert_int_equal(err.code, CNI_ERR_INVALID_CONFIG);
	assert_string_equal(err.msg, "ipam.type must be a string, not integer 5");
	assert_string_equal(out, "untouched");
	json_decref(obj);
}

static void top_level_key_has_no_dot(void **state)
{
	(void)state;
	json_t *obj = load_json(doc);
	struct cni_error err = { 0 };
	const char *out = NULL;

	assert_int_equal(cni_json_string(obj, "", "o", &out, &err), -1);
	assert_string_equal(err.msg, "o must be a string, not object {\"k\":1}");
	json_decref(obj);
}

static void int_accepts_integers_only(void **state)
{
	(void)state;
	json_t *obj = load_json(doc);
	struct cni_error err = { 0 };
	long long out = 1;

	assert_int_equal(cni_json_int(obj, "", "missing", &out, &err), 0);
	assert_int_equal(out, 1);
	assert_int_equal(cni_json_int(obj, "", "neg", &out, &err), 0);
	assert_int_equal(out, -7);
	assert_int_equal(cni_json_int(obj, "x", "r", &out, &err), -1);
	assert_cni_error(&err, CNI_ERR_INVALID_CONFIG, "x.r must be an integer, not number 1.5");
	cni_error_clear(&err);
	assert_int_equal(cni_json_int(obj, "x", "s", &out, &err), -1);
	assert_cni_error(&err, CNI_ERR_INVALID_CONFIG, "x.s must be an integer, not string \"text\"");
	assert_int_equal(out, -7);
	json_decref(obj);
}

static void bool_accepts_booleans_only(void **state)
{
	(void)state;
	json_t *obj = load_json(doc);
	struct cni_error err = { 0 };
	bool out = false;

	assert_int_equal(cni_json_bool(obj, "", "t", &out, &err), 0);
	assert_true(out);
	assert_int_equal(cni_json_bool(obj, "", "f", &out, &err), 0);
	assert_false(out);
	assert_int_equal(cni_json_bool(obj, "", "n", &out, &err), 0);
	assert_false(out);
	assert_int_equal(cni_json_bool(obj, "", "i", &out, &err), -1);
	assert_cni_error(&err, CNI_ERR_INVALID_CONFIG, "i must be true or false, not integer 42");
	json_decref(obj);
}

static void object_and_array_check_their_types(void **state)
{
	(void)state;
	json_t *obj = load_json(doc);
	struct cni_error err = { 0 };
	json_t *out = NULL;

	assert_int_equal(cni_json_object(obj, "", "o", &out, &err), 0);
	assert_ptr_equal(out, json_object_get(obj, "o"));
	assert_int_equal(cni_json_array(obj, "", "a", &out, &err), 0);
	assert_ptr_equal(out, json_object_get(obj, "a"));
	assert_int_equal(cni_json_object(obj, "", "a", &out, &err), -1);
	assert_cni_error(&err, CNI_ERR_INVALID_CONFIG, "a must be an object, not array [1,2]");
	cni_error_clear(&err);
	assert_int_equal(cni_json_array(obj, "", "t", &out, &err), -1);
	assert_cni_error(&err, CNI_ERR_INVALID_CONFIG, "t must be an array, not boolean true");
	json_decref(obj);
}

static void non_object_container_reads_as_absent(void **state)
{
	(void)state;
	json_t *arr = load_json("[1]");
	struct cni_error err = { 0 };
	const char *out = "untouched";

	assert_int_equal(cni_json_string(NULL, "ipam", "type", &out, &err), 0);
	assert_int_equal(cni_json_string(arr, "ipam", "type", &out, &err), 0);
	assert_string_equal(out, "untouched");
	assert_int_equal(err.code, CNI_OK);
	json_decref(arr);
}

static void type_names(void **state)
{
	(void)state;
	json_t *obj = load_json(doc);

	assert_string_equal(cni_json_type_name(json_object_get(obj, "o")), "object");
	assert_string_equal(cni_json_type_name(json_object_get(obj, "a")), "array");
	assert_string_equal(cni_json_type_name(json_object_get(obj, "s")), "string");
	assert_string_equal(cni_json_type_name(json_object_get(obj, "i")), "integer");
	assert_string_equal(cni_json_type_name(json_object_get(obj, "r")), "number");
	assert_string_equal(cni_json_type_name(json_object_get(obj, "t")), "boolean");
	assert_string_equal(cni_json_type_name(json_object_get(obj, "f")), "boolean");
	assert_string_equal(cni_json_type_name(json_object_get(obj, "n")), "null");
	json_decref(obj);
}

static void unknown_keys_are_named_with_the_likely_one(void **state)
{
	(void)state;
	static const char *const known[] = { "type", "timeout", "daemonSocketPath", NULL };
	json_t *ipam = load_json("{\"type\":\"dhcp\",\"timeouts\":\"30s\",\"colour\":1,\"timeout\":5}");
	char text[512] = "";
	FILE *out = fmemopen(text, sizeof(text), "w");

	assert_non_null(out);
	assert_int_equal(cni_json_warn_unknown(ipam, "ipam", known, "dhcp", out), 2);
	fclose(out);
	assert_non_null(strstr(text, "dhcp: warning: unknown key \"timeouts\" in ipam ignored (did you mean \"timeout\"?)\n"));
	assert_non_null(strstr(text, "dhcp: warning: unknown key \"colour\" in ipam ignored\n"));
	json_decref(ipam);
}

static void known_keys_say_nothing(void **state)
{
	(void)state;
	static const char *const known[] = { "type", "master", NULL };
	json_t *conf = load_json("{\"type\":\"macvlan\",\"master\":\"eth0\"}");
	char text[64] = "";
	FILE *out = fmemopen(text, sizeof(text), "w");

	assert_int_equal(cni_json_warn_unknown(conf, "", known, "macvlan", out), 0);
	fclose(out);
	assert_string_equal(text, "");
	json_decref(conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(string_present_absent_and_null),
		cmocka_unit_test(wrong_type_names_key_and_value),
		cmocka_unit_test(top_level_key_has_no_dot),
		cmocka_unit_test(int_accepts_integers_only),
		cmocka_unit_test(bool_accepts_booleans_only),
		cmocka_unit_test(object_and_array_check_their_types),
		cmocka_unit_test(non_object_container_reads_as_absent),
		cmocka_unit_test(type_names),
		cmocka_unit_test(unknown_keys_are_named_with_the_likely_one),
		cmocka_unit_test(known_keys_say_nothing),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
