/* cni_error_*: the first error wins, details and prefixes belong to it. */
#include "helpers.h"

#include "cni/error.h"

static void set_records_code_and_message(void **state)
{
	(void)state;
	struct cni_error err = { 0 };

	assert_int_equal(cni_error_set(&err, CNI_ERR_INVALID_CONFIG, "bad %s %d", "value", 42), -1);
	assert_int_equal(err.code, CNI_ERR_INVALID_CONFIG);
	assert_string_equal(err.msg, "bad value 42");
	assert_string_equal(err.details, "");
}

static void second_set_keeps_first_error(void **state)
{
	(void)state;
	struct cni_error err = { 0 };

	cni_error_set(&err, CNI_ERR_NETLINK, "first");
	assert_int_equal(cni_error_set(&err, CNI_ERR_IPAM, "second"), -1);
	assert_int_equal(err.code, CNI_ERR_NETLINK);
	assert_string_equal(err.msg, "first");
}

static void details_are_set(void **state)
{
	(void)state;
	struct cni_error err = { 0 };

	cni_error_set(&err, CNI_ERR_IO, "msg");
	cni_error_details(&err, "because %s", "reasons");
	assert_string_equal(err.details, "because reasons");
}

/* The cleanup after a failure (IPAM DEL after a failed ADD) may fail too: its details
 * must not replace those of the error that is reported. */
static void ignored_set_does_not_take_details(void **state)
{
	(void)state;
	struct cni_error err = { 0 };

	cni_error_set(&err, CNI_ERR_NETLINK, "first");
	cni_error_details(&err, "first details");
	cni_error_set(&err, CNI_ERR_IPAM, "second");
	cni_error_details(&err, "second details");
	assert_string_equal(err.msg, "first");
	assert_string_equal(err.details, "first details");
}

/* A cleanup whose error is dropped does not stop the next error's details once cleared. */
static void set_after_clear_records_again(void **state)
{
	(void)state;
	struct cni_error err = { 0 };

	cni_error_set(&err, CNI_ERR_NETLINK, "first");
	cni_error_details(&err, "d");
	cni_error_set(&err, CNI_ERR_IO, "dropped");
	cni_error_clear(&err);
	assert_int_equal(err.code, CNI_OK);
	assert_string_equal(err.msg, "");
	assert_string_equal(err.details, "");
	cni_error_set(&err, CNI_ERR_IPAM, "second");
	cni_error_details(&err, "second details");
	assert_int_equal(err.code, CNI_ERR_IPAM);
	assert_string_equal(err.msg, "second");
	assert_string_equal(err.details, "second details");
}

static void prefix_puts_context_in_front(void **state)
{
	(void)state;
	struct cni_error err = { 0 };

	cni_error_set(&err, CNI_ERR_IPAM, "no addresses left");
	cni_error_prefix(&err, "delegating to %s", "IPAM");
	assert_string_equal(err.msg, "delegating to IPAM: no addresses left");
	assert_int_equal(err.code, CNI_ERR_IPAM);
}

static void long_message_is_truncated(void **state)
{
	(void)state;
	struct cni_error err = { 0 };
	char longer[CNI_MSG_MAX * 2];

	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	cni_error_set(&err, CNI_ERR_IO, "%s", longer);
	assert_int_equal(strlen(err.msg), CNI_MSG_MAX - 1);
	cni_error_details(&err, "%s", longer);
	assert_int_equal(strlen(err.details), CNI_DETAILS_MAX - 1);
	cni_error_prefix(&err, "ctx");
	assert_int_equal(strlen(err.msg), CNI_MSG_MAX - 1);
	assert_memory_equal(err.msg, "ctx: xxx", 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_records_code_and_message),
		cmocka_unit_test(second_set_keeps_first_error),
		cmocka_unit_test(details_are_set),
		cmocka_unit_test(ignored_set_does_not_take_details),
		cmocka_unit_test(set_after_clear_records_again),
		cmocka_unit_test(prefix_puts_context_in_front),
		cmocka_unit_test(long_message_is_truncated),
	};
	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
