#include <arpa/inet.h>
#include <stdio.h>

#include "doctor/probe_verdict.h"
#include "util/macro.h"

/* Why a DHCPDISCOVER gets no answer, the most common first, and how to tell. */
static const struct check_cause silence_causes[] = {
	{ "no DHCP server on the master's L2 segment, or the master is on the wrong VLAN",
	  "`tcpdump -eni <master> port 67 or port 68` during the probe shows its DHCPDISCOVERs (from the MAC "
	  "below) leaving and nothing coming back; compare the switch port's VLAN with the DHCP server's; "
	  "another host on this segment (`busybox udhcpc -i <interface> -n -q`) gets the same silence" },
	{ "a switch or hypervisor drops frames from MACs it did not learn or assign: port security, VMware "
	  "port groups rejecting \"Forged transmits\" or \"MAC address changes\", cloud networks (AWS, GCP and "
	  "Azure VPCs deliver only the MACs they assigned)",
	  "the switch port's port-security (MAC limit) settings; in vSphere the port group's security policy "
	  "(accept both, or enable MAC learning); in a cloud VPC macvlan cannot work: use the cloud's own CNI" },
	{ "the server's pool is full: many servers stay silent rather than refuse",
	  "the server's leases and log (dnsmasq: \"no address available\", ISC dhcpd: \"no free leases\")" },
	{ "the server is on another subnet and no relay forwards DHCP to it",
	  "the segment's router must relay DHCP to the server (`ip helper-address` on Cisco, dhcrelay elsewhere)" },
	{ "the DHCP server runs on this node, behind the master: a macvlan never reaches its master's own host",
	  "`ss -ulpn sport = :67` on this node; serve DHCP from another host" },
};

static size_t count_offering(const struct probe_result *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_servers; i++)
		n += p->servers[i].offers > 0;
	return n;
}

static const char *addr_text(struct in_addr addr, char buf[INET_ADDRSTRLEN])
{
	return addr.s_addr ? inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN) : "(no server id)";
}

static void report_silence(struct report *r, const char *master, const struct probe_result *p)
{
	struct check *c = report_add(r, "lan-probe", CHECK_FAILED, "no DHCPOFFER within %lld ms to %u DHCPDISCOVER%s "
								   "on %s", (long long)p->listen_ms, p->discovers,
				     p->discovers == 1 ? "" : "s", master);

	if (!c)
		return;
	c->causes = silence_causes;
	c->n_causes = ARRAY_SIZE(silence_causes);
	check_hint(c, "a longer --probe-time rules out a slow server (ISC dhcpd pings an address before "
		      "offering it)");
}

static void report_naks(struct report *r, const struct probe_result *p, bool offered)
{
	const char *name = offered ? "dhcp-nak" : "lan-probe";
	enum check_status status = offered ? CHECK_WARNING : CHECK_FAILED;
	char id[INET_ADDRSTRLEN];

	for (size_t i = 0; i < p->n_servers; i++) {
		const struct probe_server *s = &p->servers[i];
		if (!s->naks)
			continue;
		struct check *c = report_add(r, name, status, "server %s answered a DHCPDISCOVER with a DHCPNAK%s%s%s",
					     addr_text(s->server_id, id), s->message[0] ? " (\"" : "", s->message,
					     s->message[0] ? "\")" : "");
		check_hint(c, "the server refuses this segment or unknown clients (no pool for the subnet, "
			      "\"deny unknown-clients\", a client-class rule): see its configuration and log");
	}
}

static void report_offers(struct report *r, const struct probe_result *p, size_t offering)
{
	char id[INET_ADDRSTRLEN], addr[INET_ADDRSTRLEN];
	struct check *c;

	for (size_t i = 0; i < p->n_servers; i++) {
		const struct probe_server *s = &p->servers[i];
		if (!s->offers || s->has_lease_time)
			continue;
		c = report_add(r, "lease-time", CHECK_WARNING, "server %s offered %s without a lease time (option 51)",
			       addr_text(s->server_id, id), inet_ntop(AF_INET, &s->address, addr, sizeof(addr)));
		check_hint(c, "RFC 2131 requires option 51 in a DHCPOFFER; set a lease time in the server's "
			      "configuration");
	}
	if (offering == 1) {
		report_add(r, "dhcp-servers", CHECK_OK, "one DHCP server answered");
		return;
	}
	c = report_add(r, "dhcp-servers", CHECK_WARNING, "%zu DHCP servers answered: a rogue server on the segment?",
		       offering);
	check_hint(c, "pods take whichever offer comes first: find the unexpected server by its MAC (the switch's "
		      "MAC table) and stop it, or filter with DHCP snooping");
}

void check_probe(struct report *r, const char *master, const struct probe_result *p)
{
	size_t offering = count_offering(p);
	char id[INET_ADDRSTRLEN], addr[INET_ADDRSTRLEN];

	if (offering) {
		const struct probe_server *first = p->servers;
		while (!first->offers)
			first++;
		report_add(r, "lan-probe", CHECK_OK, "server %s offered %s/%u in %u ms on %s",
			   addr_text(first->server_id, id), inet_ntop(AF_INET, &first->address, addr, sizeof(addr)),
			   first->prefix_len, first->rtt_ms, master);
	} else if (!p->n_servers) {
		report_silence(r, master, p);
	}
	report_naks(r, p, offering > 0);
	if (offering)
		report_offers(r, p, offering);
}
