/* CNI_NETNS opened for a plugin (cni/netns): the namespace, or a CNI error that says
 * what is wrong and what to check. */
#include "helpers.h"

#include "cni/netns.h"

static void this_threads_namespace_opens(void **state)
{
	struct cni_error err = { 0 };
	(void)state;

	int fd = netns_open_cni("/proc/thread-self/ns/net", &err);
	assert_true(fd >= 0);
	assert_int_equal(err.code, CNI_OK);
	close(fd);
}

static void missing_path_says_why_and_what_to_check(void **state)
{
	struct cni_error err = { 0 };
	(void)state;

	assert_int_equal(netns_open_cni("/nonexistent/netns/pod", &err), -1);
	assert_cni_error(&err, CNI_ERR_NETNS, "cannot open network namespace /nonexistent/netns/pod: No such file");
	assert_contains(err.details, "CNI_NETNS must be the path of the container's network namespace");
}

static void a_file_that_is_no_namespace_is_named_so(void **state)
{
	char path[] = "/tmp/test_cni_netns.XXXXXX";
	struct cni_error err = { 0 };
	(void)state;

	/* What is left where a namespace was mounted once the mount is gone. */
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(netns_open_cni(path, &err), -1);
	unlink(path);
	assert_cni_error(&err, CNI_ERR_NETNS, "it is not a network namespace");
	assert_contains(err.details, "the container must still exist");
}

static void a_namespace_of_another_kind_is_refused(void **state)
{
	struct cni_error err = { 0 };
	(void)state;

	assert_int_equal(netns_open_cni("/proc/thread-self/ns/uts", &err), -1);
	assert_cni_error(&err, CNI_ERR_NETNS, "/proc/thread-self/ns/uts: it is not a network namespace");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(this_threads_namespace_opens),
		cmocka_unit_test(missing_path_says_why_and_what_to_check),
		cmocka_unit_test(a_file_that_is_no_namespace_is_named_so),
		cmocka_unit_test(a_namespace_of_another_kind_is_refused),
	};
	return cmocka_run_group_tests_name("cni_netns", tests, NULL, NULL);
}
