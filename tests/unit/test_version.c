/* Spec version names and what each version's results contain. */
#include "helpers.h"

#include "cni/version.h"

static const char *const all_names[CNI_VERSION_COUNT] = { "0.1.0", "0.2.0", "0.3.0", "0.3.1",
							  "0.4.0", "1.0.0", "1.1.0" };

static void every_version_parses_to_its_enum(void **state)
{
	(void)state;
	for (int v = 0; v < CNI_VERSION_COUNT; v++) {
		struct cni_error err = { 0 };
		enum cni_version parsed = CNI_VERSION_COUNT;
		assert_int_equal(cni_version_parse(all_names[v], &parsed, &err), 0);
		assert_int_equal(parsed, v);
		assert_int_equal(err.code, CNI_OK);
	}
}

static void every_version_has_its_name(void **state)
{
	(void)state;
	for (int v = 0; v < CNI_VERSION_COUNT; v++)
		assert_string_equal(cni_version_name((enum cni_version)v), all_names[v]);
	assert_int_equal(CNI_VERSION_LATEST, CNI_VERSION_1_1_0);
}

static void out_of_range_version_name_is_question_mark(void **state)
{
	(void)state;
	assert_string_equal(cni_version_name(CNI_VERSION_COUNT), "?");
}

static void empty_version_is_0_1_0(void **state)
{
	(void)state;
	struct cni_error err = { 0 };
	enum cni_version v = CNI_VERSION_1_1_0;

	assert_int_equal(cni_version_parse("", &v, &err), 0);
	assert_int_equal(v, CNI_VERSION_0_1_0);
	v = CNI_VERSION_1_1_0;
	assert_int_equal(cni_version_parse(NULL, &v, &err), 0);
	assert_int_equal(v, CNI_VERSION_0_1_0);
}

static void unknown_version_is_code_1_naming_it(void **state)
{
	(void)state;
	static const char *const bad[] = { "0.5.0", "1.0", "1.1.0 ", " 1.0.0", "v1.0.0", "2.0.0", "1.0.0.0", "x" };

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		struct cni_error err = { 0 };
		enum cni_version v = CNI_VERSION_0_3_1;
		assert_int_equal(cni_version_parse(bad[i], &v, &err), -1);
		assert_cni_error(&err, CNI_ERR_INCOMPATIBLE_VERSION, bad[i]);
		assert_contains(err.details, "1.1.0");
	}
}

static void only_0_1_and_0_2_have_legacy_results(void **state)
{
	(void)state;
	for (int v = 0; v < CNI_VERSION_COUNT; v++)
		assert_int_equal(cni_version_has_legacy_result((enum cni_version)v), v <= CNI_VERSION_0_2_0);
}

static void only_0_3_to_0_4_have_ip_version(void **state)
{
	(void)state;
	for (int v = 0; v < CNI_VERSION_COUNT; v++)
		assert_int_equal(cni_version_has_ip_version((enum cni_version)v),
				 v == CNI_VERSION_0_3_0 || v == CNI_VERSION_0_3_1 || v == CNI_VERSION_0_4_0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_version_parses_to_its_enum),
		cmocka_unit_test(every_version_has_its_name),
		cmocka_unit_test(out_of_range_version_name_is_question_mark),
		cmocka_unit_test(empty_version_is_0_1_0),
		cmocka_unit_test(unknown_version_is_code_1_naming_it),
		cmocka_unit_test(only_0_1_and_0_2_have_legacy_results),
		cmocka_unit_test(only_0_3_to_0_4_have_ip_version),
	};
	return cmocka_run_group_tests_name("version", tests, NULL, NULL);
}
