/* CNI_ARGS: "K=V;K=V" parsing and the IgnoreUnknown rule. */
#include "helpers.h"

#include "cni/args.h"

static const char *const k8s_keys[] = { "K8S_POD_NAMESPACE", "K8S_POD_NAME", NULL };

static void parse_ok(const char *text, struct cni_args *args)
{
	struct cni_error err = { 0 };

	if (cni_args_parse(text, args, &err) < 0)
		fail_msg("\"%s\" rejected: %s", text, err.msg);
}

static void parse_fails(const char *text, int code, const char *msg_part)
{
	struct cni_args args = { .count = 99 };
	struct cni_error err = { 0 };

	if (cni_args_parse(text, &args, &err) == 0)
		fail_msg("\"%s\" accepted", text);
	assert_cni_error(&err, code, msg_part);
	/* A failed parse leaves nothing to free. */
	assert_int_equal(args.count, 0);
	assert_null(args.items);
}

static void null_and_empty_give_no_pairs(void **state)
{
	(void)state;
	struct cni_args args;

	parse_ok(NULL, &args);
	assert_int_equal(args.count, 0);
	assert_false(args.ignore_unknown);
	parse_ok("", &args);
	assert_int_equal(args.count, 0);
	cni_args_free(&args);
}

static void pairs_are_split_in_order(void **state)
{
	(void)state;
	struct cni_args args;

	parse_ok("A=1;Bee=two;C=", &args);
	assert_int_equal(args.count, 3);
	assert_string_equal(args.items[0].key, "A");
	assert_string_equal(args.items[0].value, "1");
	assert_string_equal(args.items[1].key, "Bee");
	assert_string_equal(args.items[1].value, "two");
	assert_string_equal(args.items[2].key, "C");
	assert_string_equal(args.items[2].value, "");
	cni_args_free(&args);
	assert_int_equal(args.count, 0);
	assert_null(args.items);
}

static void get_finds_values_by_key(void **state)
{
	(void)state;
	struct cni_args args;

	parse_ok("IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0", &args);
	assert_string_equal(cni_args_get(&args, "K8S_POD_NAME"), "web-0");
	assert_string_equal(cni_args_get(&args, "K8S_POD_NAMESPACE"), "default");
	assert_null(cni_args_get(&args, "K8S_POD_UID"));
	assert_null(cni_args_get(&args, "k8s_pod_name"));
	cni_args_free(&args);
}

static void trailing_semicolon_is_allowed(void **state)
{
	(void)state;
	struct cni_args args;

	parse_ok("A=1;B=2;", &args);
	assert_int_equal(args.count, 2);
	assert_string_equal(cni_args_get(&args, "B"), "2");
	cni_args_free(&args);
}

static void empty_elements_are_skipped(void **state)
{
	(void)state;
	struct cni_args args;

	parse_ok(";;", &args);
	assert_int_equal(args.count, 0);
	cni_args_free(&args);
	parse_ok(";A=1;;B=2;;", &args);
	assert_int_equal(args.count, 2);
	assert_string_equal(cni_args_get(&args, "A"), "1");
	assert_string_equal(cni_args_get(&args, "B"), "2");
	cni_args_free(&args);
}

static void equals_in_value_splits_at_the_first(void **state)
{
	(void)state;
	struct cni_args args;

	parse_ok("A=b=c;D==", &args);
	assert_int_equal(args.count, 2);
	assert_string_equal(args.items[0].key, "A");
	assert_string_equal(args.items[0].value, "b=c");
	assert_string_equal(args.items[1].key, "D");
	assert_string_equal(args.items[1].value, "=");
	cni_args_free(&args);
}

static void empty_key_is_rejected(void **state)
{
	(void)state;
	parse_fails("=value", CNI_ERR_INVALID_ENV, "invalid pair \"=value\"");
	parse_fails("A=1;=2", CNI_ERR_INVALID_ENV, "invalid pair \"=2\"");
}

static void missing_equals_is_rejected(void **state)
{
	(void)state;
	parse_fails("A", CNI_ERR_INVALID_ENV, "invalid pair \"A\"");
	parse_fails("A=1;B;C=3", CNI_ERR_INVALID_ENV, "invalid pair \"B\"");
}

static void ignore_unknown_true_values(void **state)
{
	(void)state;
	static const char *const texts[] = { "IgnoreUnknown=1", "IgnoreUnknown=true", "IgnoreUnknown=TRUE",
					     "IgnoreUnknown=True" };

	for (size_t i = 0; i < N_ELEMENTS(texts); i++) {
		struct cni_args args;
		parse_ok(texts[i], &args);
		assert_true(args.ignore_unknown);
		cni_args_free(&args);
	}
}

static void ignore_unknown_false_values(void **state)
{
	(void)state;
	static const char *const texts[] = { "IgnoreUnknown=0", "IgnoreUnknown=false", "IgnoreUnknown=FALSE" };

	for (size_t i = 0; i < N_ELEMENTS(texts); i++) {
		struct cni_args args;
		parse_ok(texts[i], &args);
		assert_false(args.ignore_unknown);
		cni_args_free(&args);
	}
}

static void ignore_unknown_non_boolean_is_rejected(void **state)
{
	(void)state;
	parse_fails("IgnoreUnknown=maybe", CNI_ERR_INVALID_ENV, "IgnoreUnknown=\"maybe\"");
	parse_fails("IgnoreUnknown=", CNI_ERR_INVALID_ENV, "IgnoreUnknown=\"\"");
	parse_fails("IgnoreUnknown=yes", CNI_ERR_INVALID_ENV, "is not a boolean");
	parse_fails("IgnoreUnknown=2", CNI_ERR_INVALID_ENV, "is not a boolean");
}

static void unknown_key_is_code_2_naming_it(void **state)
{
	(void)state;
	struct cni_args args;
	struct cni_error err = { 0 };

	parse_ok("K8S_POD_NAME=web-0;FOO=bar", &args);
	assert_int_equal(cni_args_check_known(&args, k8s_keys, &err), -1);
	assert_cni_error(&err, CNI_ERR_UNSUPPORTED_FIELD, "unknown key \"FOO\"");
	assert_contains(err.details, "IgnoreUnknown");
	cni_args_free(&args);
}

static void unknown_key_with_ignore_unknown_0_is_rejected(void **state)
{
	(void)state;
	struct cni_args args;
	struct cni_error err = { 0 };

	parse_ok("IgnoreUnknown=0;FOO=bar", &args);
	assert_int_equal(cni_args_check_known(&args, k8s_keys, &err), -1);
	assert_cni_error(&err, CNI_ERR_UNSUPPORTED_FIELD, "\"FOO\"");
	cni_args_free(&args);
}

static void unknown_keys_with_ignore_unknown_are_accepted(void **state)
{
	(void)state;
	static const char *const texts[] = { "IgnoreUnknown=1;FOO=bar", "FOO=bar;IgnoreUnknown=true",
					     "IgnoreUnknown=TRUE;FOO=bar;BAR=baz" };

	for (size_t i = 0; i < N_ELEMENTS(texts); i++) {
		struct cni_args args;
		struct cni_error err = { 0 };
		parse_ok(texts[i], &args);
		assert_int_equal(cni_args_check_known(&args, k8s_keys, &err), 0);
		assert_int_equal(err.code, CNI_OK);
		cni_args_free(&args);
	}
}

static void known_keys_and_ignore_unknown_itself_pass(void **state)
{
	(void)state;
	struct cni_args args;
	struct cni_error err = { 0 };

	parse_ok("IgnoreUnknown=0;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=n", &args);
	assert_int_equal(cni_args_check_known(&args, k8s_keys, &err), 0);
	assert_int_equal(cni_args_check_known(&args, NULL, &err), -1);
	assert_cni_error(&err, CNI_ERR_UNSUPPORTED_FIELD, "K8S_POD_NAMESPACE");
	cni_args_free(&args);
}

static void ignore_unknown_alone_needs_no_known_list(void **state)
{
	(void)state;
	struct cni_args args;
	struct cni_error err = { 0 };

	parse_ok("IgnoreUnknown=0", &args);
	assert_int_equal(cni_args_check_known(&args, NULL, &err), 0);
	cni_args_free(&args);
}

static void kubernetes_args_parse(void **state)
{
	(void)state;
	struct cni_args args;
	struct cni_error err = { 0 };

	parse_ok("IgnoreUnknown=1;K8S_POD_NAMESPACE=kube-system;K8S_POD_NAME=coredns-5d78c9869d-abcde;"
		 "K8S_POD_INFRA_CONTAINER_ID=0123456789abcdef;K8S_POD_UID=6e2a3c1e-1111-2222-3333-444455556666",
		 &args);
	assert_int_equal(args.count, 5);
	assert_true(args.ignore_unknown);
	assert_string_equal(cni_args_get(&args, "K8S_POD_UID"), "6e2a3c1e-1111-2222-3333-444455556666");
	assert_int_equal(cni_args_check_known(&args, k8s_keys, &err), 0);
	cni_args_free(&args);
}

/* "namespace/name" of the pod, for the daemon's log and list; nothing that Kubernetes
 * would not name (a forged line, a path) gets through. */
static void pod_is_namespace_slash_name(void **state)
{
	char pod[CNI_POD_REF_MAX];
	(void)state;

	assert_true(cni_args_pod("IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0", pod));
	assert_string_equal(pod, "shop/web-0");
	assert_true(cni_pod_ref_valid(pod));
	assert_false(cni_args_pod("K8S_POD_NAME=web-0", pod));
	assert_false(cni_args_pod("K8S_POD_NAMESPACE=shop", pod));
	assert_false(cni_args_pod(NULL, pod));
	assert_false(cni_args_pod("K8S_POD_NAMESPACE=Shop;K8S_POD_NAME=web-0", pod));
	assert_false(cni_args_pod("K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web/0", pod));
	assert_false(cni_args_pod("K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web\n0", pod));
	assert_false(cni_args_pod("K8S_POD_NAMESPACE=a23456789012345678901234567890123456789012345678901234567890"
				  "1234;K8S_POD_NAME=p",
				  pod)); /* 64 characters */
	assert_false(cni_args_pod("broken", pod));
	static const char *const bad[] = { "", "shop", "/web-0", "shop/", "shop/web/0", "shop/Web" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(cni_pod_ref_valid(bad[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(null_and_empty_give_no_pairs),
		cmocka_unit_test(pairs_are_split_in_order),
		cmocka_unit_test(get_finds_values_by_key),
		cmocka_unit_test(trailing_semicolon_is_allowed),
		cmocka_unit_test(empty_elements_are_skipped),
		cmocka_unit_test(equals_in_value_splits_at_the_first),
		cmocka_unit_test(empty_key_is_rejected),
		cmocka_unit_test(missing_equals_is_rejected),
		cmocka_unit_test(ignore_unknown_true_values),
		cmocka_unit_test(ignore_unknown_false_values),
		cmocka_unit_test(ignore_unknown_non_boolean_is_rejected),
		cmocka_unit_test(unknown_key_is_code_2_naming_it),
		cmocka_unit_test(unknown_key_with_ignore_unknown_0_is_rejected),
		cmocka_unit_test(unknown_keys_with_ignore_unknown_are_accepted),
		cmocka_unit_test(known_keys_and_ignore_unknown_itself_pass),
		cmocka_unit_test(ignore_unknown_alone_needs_no_known_list),
		cmocka_unit_test(kubernetes_args_parse),
		cmocka_unit_test(pod_is_namespace_slash_name),
	};
	return cmocka_run_group_tests_name("args", tests, NULL, NULL);
}
