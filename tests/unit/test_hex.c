/* Octets as hex text and back, strictly: two hex digits per octet and nothing else. */
#include <errno.h>

#include "helpers.h"

#include "util/hex.h"

static void encode_is_lowercase_two_digits_an_octet(void **state)
{
	static const uint8_t data[] = { 0x00, 0x0f, 0xa5, 0xff };
	(void)state;
	char *text = hex_encode(data, sizeof(data));

	assert_string_equal(text, "000fa5ff");
	free(text);
	text = hex_encode(NULL, 0);
	assert_string_equal(text, "");
	free(text);
}

static void decode_takes_either_case_and_the_empty_text(void **state)
{
	uint8_t *out = NULL;
	size_t len = 0;
	(void)state;

	assert_int_equal(hex_decode("000FA5ff", 8, &out, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(out, "\x00\x0f\xa5\xff", 4);
	free(out);
	assert_int_equal(hex_decode("", 8, &out, &len), 0);
	assert_int_equal(len, 0);
	free(out);
}

static void decode_refuses_what_sscanf_would_take(void **state)
{
	static const char *const bad[] = { "0g", "-1", " 1", "+f", "0x", "abc", NULL };
	uint8_t *out = NULL;
	size_t len = 0;
	(void)state;

	for (size_t i = 0; bad[i]; i++) {
		assert_int_equal(hex_decode(bad[i], 8, &out, &len), -EINVAL);
		assert_null(out);
	}
	assert_int_equal(hex_decode(NULL, 8, &out, &len), -EINVAL);
}

static void decode_keeps_to_its_bound(void **state)
{
	uint8_t *out = NULL;
	size_t len = 0;
	(void)state;

	assert_int_equal(hex_decode("0102", 2, &out, &len), 0);
	free(out);
	out = NULL;
	assert_int_equal(hex_decode("010203", 2, &out, &len), -EINVAL);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encode_is_lowercase_two_digits_an_octet),
		cmocka_unit_test(decode_takes_either_case_and_the_empty_text),
		cmocka_unit_test(decode_refuses_what_sscanf_would_take),
		cmocka_unit_test(decode_keeps_to_its_bound),
	};
	return cmocka_run_group_tests_name("hex", tests, NULL, NULL);
}
