/* dhcp/ipam_conf: the `ipam` keys; here their durations, bounded where they are read
 * (timeout at 24h, retransmitInitial at 1h, arpProbe from 100ms to 10s). */
#include "helpers.h"

#include "dhcp/duration.h"
#include "dhcp/ipam_conf.h"

/* Parses the ipam JSON (' for "); the error, when there is one, in *err. */
static int parse(const char *ipam_json, struct dhcp_ipam_conf *conf, struct cni_error *err)
{
	json_t *ipam = load_json(ipam_json);
	struct cni_args args = { 0 };

	*err = (struct cni_error){ 0 };
	int r = dhcp_ipam_conf_parse(ipam, &args, conf, err);
	json_decref(ipam);
	return r;
}

static void durations_as_text_or_seconds(void **state)
{
	struct dhcp_ipam_conf conf;
	struct cni_error err;
	(void)state;

	assert_int_equal(parse("{'timeout': '1m30s', 'retransmitInitial': 2, 'arpProbe': '300ms'}", &conf, &err), 0);
	assert_int_equal(conf.acquire_timeout_ms, 90000);
	assert_int_equal(conf.retransmit_initial_ms, 2000);
	assert_int_equal(conf.arp_probe_ms, 300);
	assert_int_equal(parse("{}", &conf, &err), 0);
	assert_int_equal(conf.acquire_timeout_ms, -1);
	assert_int_equal(conf.retransmit_initial_ms, -1);
	assert_int_equal(conf.arp_probe_ms, -1);
}

/* ipam.`key` = `value` (JSON) is refused with code 7 and `msg_part`. */
static void assert_refused(const char *key, const char *value, const char *msg_part)
{
	struct dhcp_ipam_conf conf;
	struct cni_error err;
	char json[256];

	snprintf(json, sizeof(json), "{'%s': %s}", key, value);
	if (parse(json, &conf, &err) == 0)
		fail_msg("ipam.%s = %s was taken", key, value);
	assert_cni_error(&err, CNI_ERR_INVALID_CONFIG, msg_part);
}

/* ipam.`key` = `value` (JSON) gives `ms`. */
static void assert_taken(const char *key, const char *value, int64_t ms)
{
	struct dhcp_ipam_conf conf;
	struct cni_error err;
	char json[256];

	snprintf(json, sizeof(json), "{'%s': %s}", key, value);
	if (parse(json, &conf, &err) < 0)
		fail_msg("ipam.%s = %s was refused: %s", key, value, err.msg);
	int64_t got = strcmp(key, "timeout") == 0		? conf.acquire_timeout_ms
		      : strcmp(key, "retransmitInitial") == 0 ? conf.retransmit_initial_ms
							      : conf.arp_probe_ms;
	assert_int_equal(got, ms);
}

static void timeout_is_at_most_a_day(void **state)
{
	(void)state;
	assert_taken("timeout", "'24h'", DURATION_MAX_ACQUIRE_MS);
	assert_taken("timeout", "86400", DURATION_MAX_ACQUIRE_MS);
	assert_refused("timeout", "'24h1ms'", "ipam.timeout is longer than 24h, the longest allowed");
	assert_refused("timeout", "86401", "ipam.timeout is longer than 24h");
	/* What wrapped the engine's uint32 milliseconds to 0: never giving up. */
	assert_refused("timeout", "'4294967.296s'", "ipam.timeout is longer than 24h");
	assert_refused("timeout", "4294968", "ipam.timeout is longer than 24h");
	assert_refused("timeout", "'1e300s'", "ipam.timeout must be a positive duration");
	assert_refused("timeout", "'NaNs'", "ipam.timeout must be a positive duration");
	assert_refused("timeout", "'0s'", "ipam.timeout must be a positive duration");
	assert_refused("timeout", "0", "ipam.timeout must be a positive duration");
	assert_refused("timeout", "-5", "ipam.timeout must be a positive duration");
	assert_refused("timeout", "1.5", "ipam.timeout must be a positive duration");
	assert_refused("timeout", "true", "ipam.timeout must be a positive duration");
}

static void retransmit_initial_is_at_most_an_hour(void **state)
{
	(void)state;
	assert_taken("retransmitInitial", "'1h'", DURATION_MAX_RETRANSMIT_MS);
	assert_taken("retransmitInitial", "3600", DURATION_MAX_RETRANSMIT_MS);
	assert_refused("retransmitInitial", "'3600.001s'", "ipam.retransmitInitial is longer than 1h");
	assert_refused("retransmitInitial", "3601", "ipam.retransmitInitial is longer than 1h");
	assert_refused("retransmitInitial", "'4294967.296s'", "ipam.retransmitInitial is longer than 1h");
	assert_refused("retransmitInitial", "'soon'", "ipam.retransmitInitial must be a positive duration");
}

static void arp_probe_keeps_its_range(void **state)
{
	(void)state;
	assert_taken("arpProbe", "'100ms'", 100);
	assert_taken("arpProbe", "'10s'", 10000);
	assert_refused("arpProbe", "'10001ms'", "from 100ms to 10s, not 10.001s");
	assert_refused("arpProbe", "'1h'", "from 100ms to 10s, not 3600s");
	assert_refused("arpProbe", "'99ms'", "from 100ms to 10s, not 0.099s");
	/* Past any duration: no wrap to a value inside the range. */
	assert_refused("arpProbe", "'4294967.296s'", "ipam.arpProbe is longer than 24h");
	assert_refused("arpProbe", "'4294967296100ms'", "ipam.arpProbe is longer than 24h");
	assert_refused("arpProbe", "'0s'", "positive duration");
}

/* ipam.identity: "container" (the default) or "pod"; anything else is refused naming
 * both, and so is a pod identity beside a client identifier of ipam.provide. */
static void identity_is_container_or_pod(void **state)
{
	struct dhcp_ipam_conf conf;
	struct cni_error err;
	(void)state;

	assert_int_equal(parse("{}", &conf, &err), 0);
	assert_int_equal(conf.identity, DHCP_IDENTITY_CONTAINER);
	assert_int_equal(parse("{'identity': 'container'}", &conf, &err), 0);
	assert_int_equal(conf.identity, DHCP_IDENTITY_CONTAINER);
	/* Taken without CNI_ARGS: an installer checks a configuration with none. */
	assert_int_equal(parse("{'identity': 'pod'}", &conf, &err), 0);
	assert_int_equal(conf.identity, DHCP_IDENTITY_POD);

	assert_refused("identity", "'Pod'", "ipam.identity \"Pod\" is not one: use \"container\" or \"pod\"");
	assert_refused("identity", "''", "ipam.identity \"\" is not one");
	assert_refused("identity", "1", "ipam.identity");
	assert_int_equal(parse("{'identity': 'pod', 'provide': [{'option': 'dhcp-client-identifier', 'value': 'x'}]}",
			       &conf, &err),
			 -1);
	assert_cni_error(&err, CNI_ERR_INVALID_CONFIG,
			 "ipam.identity \"pod\" and ipam.provide[] dhcp-client-identifier both set the client identifier");
	/* A fromArg the runtime did not pass sends nothing: no conflict. */
	assert_int_equal(parse("{'identity': 'pod', 'provide': [{'option': 61, 'fromArg': 'CLIENT_ID'}]}", &conf, &err),
			 0);

	bool listed = false;
	for (const char *const *key = dhcp_ipam_keys; *key; key++)
		listed |= strcmp(*key, "identity") == 0;
	assert_true(listed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations_as_text_or_seconds),
		cmocka_unit_test(timeout_is_at_most_a_day),
		cmocka_unit_test(retransmit_initial_is_at_most_an_hour),
		cmocka_unit_test(arp_probe_keeps_its_range),
		cmocka_unit_test(identity_is_container_or_pod),
	};
	return cmocka_run_group_tests_name("ipam_conf", tests, NULL, NULL);
}
