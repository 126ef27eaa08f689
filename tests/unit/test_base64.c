/* base64 as Go's encoding/json writes a []byte: RFC 4648's test vectors, and
 * nothing else is taken. */
#include <errno.h>

#include "helpers.h"

#include "util/base64.h"

static void rfc4648_vectors_decode(void **state)
{
	static const char *const vectors[][2] = {
		{ "", "" },	    { "Zg==", "f" },	 { "Zm8=", "fo" },	   { "Zm9v", "foo" },
		{ "Zm9vYg==", "foob" }, { "Zm9vYmE=", "fooba" }, { "Zm9vYmFy", "foobar" },
	};
	(void)state;

	for (size_t i = 0; i < N_ELEMENTS(vectors); i++) {
		uint8_t *out = NULL;
		size_t len = 0;
		assert_int_equal(base64_decode(vectors[i][0], 64, &out, &len), 0);
		assert_int_equal(len, strlen(vectors[i][1]));
		assert_string_equal((const char *)out, vectors[i][1]);
		free(out);
	}
}

static void every_octet_value_comes_through(void **state)
{
	uint8_t *out = NULL;
	size_t len = 0;
	(void)state;

	assert_int_equal(base64_decode("AP8+/w==", 64, &out, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(out, "\x00\xff\x3e\xff", 4);
	free(out);
}

static void malformed_text_is_refused(void **state)
{
	static const char *const bad[] = { "Zg", "Zg=", "Z===", "Zg==Zg==", "Zm9v!", "Zm 9", "Zm9-", "Zm9_", "====" };
	(void)state;

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		static uint8_t untouched;
		uint8_t *out = &untouched;
		size_t len = 0;
		assert_int_equal(base64_decode(bad[i], 64, &out, &len), -EINVAL);
		assert_null(out);
	}
}

static void the_bound_is_kept(void **state)
{
	uint8_t *out = NULL;
	size_t len = 0;
	(void)state;

	assert_int_equal(base64_decode("Zm9vYmFy", 6, &out, &len), 0);
	free(out);
	assert_int_equal(base64_decode("Zm9vYmFy", 5, &out, &len), -EINVAL);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc4648_vectors_decode),
		cmocka_unit_test(every_octet_value_comes_through),
		cmocka_unit_test(malformed_text_is_refused),
		cmocka_unit_test(the_bound_is_kept),
	};
	return cmocka_run_group_tests_name("base64", tests, NULL, NULL);
}
