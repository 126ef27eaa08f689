/* MAC addresses as text (util/mac): what Go's net.ParseMAC takes for 6 octets, and
 * the form ip(8) prints. */
#include "helpers.h"

#include "util/mac.h"

static void colon_and_dash_forms_parse_in_any_case(void **state)
{
	static const uint8_t want[MAC_LEN] = { 0x02, 0x00, 0x5e, 0xab, 0xcd, 0xef };
	static const char *const forms[] = { "02:00:5e:ab:cd:ef", "02-00-5E-AB-CD-EF", "02:00:5E:aB:Cd:eF" };
	(void)state;

	for (size_t i = 0; i < N_ELEMENTS(forms); i++) {
		uint8_t mac[MAC_LEN] = { 0 };
		if (!mac_parse(forms[i], mac))
			fail_msg("\"%s\" was refused", forms[i]);
		assert_memory_equal(mac, want, MAC_LEN);
	}
}

static void malformed_text_is_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"02:00:5e:ab:cd",       /* five octets */
		"02:00:5e:ab:cd:ef:01", /* eight would be EUI-64: not a link's address here */
		"02:00:5e:ab:cd:e",     /* short last octet */
		"02:00:5e:ab:cd:eg",    /* not hex */
		"02:00-5e:ab:cd:ef",    /* mixed separators */
		"02.00.5e.ab.cd.ef",    /* not a separator */
		"0200.5eab.cdef",       /* Go takes it; nobody writes it in a CNI config */
		" 02:00:5e:ab:cd:e",    /* a blank */
	};
	(void)state;

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		uint8_t mac[MAC_LEN];
		if (mac_parse(bad[i], mac))
			fail_msg("\"%s\" was accepted", bad[i]);
	}
}

static void format_is_lower_case_with_colons(void **state)
{
	static const uint8_t mac[MAC_LEN] = { 0x02, 0x00, 0x5e, 0xab, 0x0d, 0xef };
	char text[MAC_STRLEN];
	uint8_t back[MAC_LEN];
	(void)state;

	mac_format(mac, text);
	assert_string_equal(text, "02:00:5e:ab:0d:ef");
	assert_int_equal(strlen(text), MAC_STRLEN - 1);
	assert_true(mac_parse(text, back));
	assert_memory_equal(back, mac, MAC_LEN);
}

/* A pod's MAC from its name: the same on every node and run (the value is FNV-1a's,
 * computed apart), locally administered and unicast, another for another name. */
static void mac_from_name_is_stable_local_and_unicast(void **state)
{
	uint8_t a[MAC_LEN], again[MAC_LEN], other[MAC_LEN];
	char text[MAC_STRLEN];
	(void)state;

	mac_from_name("shop/web-0/lan/eth0", a);
	mac_format(a, text);
	assert_string_equal(text, "8e:36:92:6e:ed:6f");
	mac_from_name("shop/web-0/lan/eth0", again);
	assert_memory_equal(a, again, MAC_LEN);
	mac_from_name("shop/web-1/lan/eth0", other);
	assert_memory_not_equal(a, other, MAC_LEN);
	static const char *const names[] = { "", "x", "default/a/net/eth0", "kube-system/coredns-1/lan/net1" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		mac_from_name(names[i], other);
		assert_int_equal(other[0] & 0x03, 0x02);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(colon_and_dash_forms_parse_in_any_case),
		cmocka_unit_test(malformed_text_is_refused),
		cmocka_unit_test(format_is_lower_case_with_colons),
		cmocka_unit_test(mac_from_name_is_stable_local_and_unicast),
	};
	return cmocka_run_group_tests_name("mac", tests, NULL, NULL);
}
