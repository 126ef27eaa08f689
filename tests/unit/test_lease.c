/* The daemon's lease object (src/dhcpd/lease/: lease.c, link.c, probe.c, sync.c) with a
 * fake pod (lease_fake.h): the DHCP exchanges as they leave the pod's sockets, the
 * owner's answers, saves and forgets, the pod's address kept in step, ARP probes,
 * releases. Records and restores (record.c, lease_resume) are in test_lease_record.c.
 * Times are explicit; nothing sleeps, nothing reaches a network. */
#include "lease_fake.h"

/* ---- helpers of this file ---- */

/* Another host answers for the probed address; the lease reads it in one turn of the
 * loop. */
static void arp_reply_from_holder(struct fx *fx)
{
	uint8_t packet[ACD_ARP_LEN];
	struct fake_sock *s = open_sock(FAKE_ARP);

	assert_non_null(s);
	arp_packet(packet, 2, other_mac, ADDR, "0.0.0.0");
	assert_int_equal(send(s->peer, packet, sizeof(packet), 0), (ssize_t)sizeof(packet));
	assert_int_equal(loop_run_once(&fx->loop, 0), 0);
}

/* ---- acquiring ---- */

static void acquire_broadcasts_then_saves_and_answers_with_the_result(void **state)
{
	struct fx *fx = *state;

	fx_lease(fx);
	lease_start(fx->lease, fx->now);
	assert_trace("packet-socket packet:DHCPDISCOVER");
	const struct sent_dgram *discover = sent(0);
	assert_sent_type(discover, DHCPDISCOVER);
	assert_broadcast(discover);
	assert_ciaddr(discover, "0.0.0.0");
	assert_memory_equal(discover->msg->header.chaddr, test_mac, 6);
	assert_option_equal(discover->msg, DHCP_OPTION_CLIENT_IDENTIFIER, "\0" FX_KEY, 1 + strlen(FX_KEY));
	assert_option_equal(discover->msg, DHCP_OPTION_PARAMETER_REQUEST_LIST, fx_request_options + 2, 6);
	assert_state(fx, DHCP_STATE_SELECTING);
	assert_true(packet_open());

	trace_clear();
	reply_offer(fx);
	assert_trace("packet:DHCPREQUEST");
	const struct sent_dgram *request = sent(1);
	assert_sent_type(request, DHCPREQUEST);
	assert_broadcast(request);
	assert_int_equal(xid_of(request), xid_of(discover));
	assert_ciaddr(request, "0.0.0.0");
	assert_option_addr(request->msg, DHCP_OPTION_REQUESTED_IP_ADDRESS, ADDR);
	assert_option_addr(request->msg, DHCP_OPTION_SERVER_IDENTIFIER, SERVER);
	assert_state(fx, DHCP_STATE_REQUESTING);
	assert_int_equal(fx->saves + fx->answers, 0);

	trace_clear();
	reply_ack(fx);
	/* The record is on disk before the plugin hears of the lease. */
	assert_trace("save answer:ok");
	assert_state(fx, DHCP_STATE_BOUND);
	assert_true(lease_bound(fx->lease));
	assert_int_equal(n_sent(), 2);
	/* Bound: no socket pins the pod's namespace. */
	assert_false(packet_open());
	assert_false(udp_open());

	char *ack = reply_hex(fx);
	assert_int_equal(json_integer_value(json_object_get(fx->record, "version")), 2);
	assert_string_equal(json_string_value(json_object_get(fx->record, "key")), FX_KEY);
	json_t *held = json_object_get(fx->record, "lease");
	assert_string_equal(json_string_value(json_object_get(held, "ack")), ack);
	assert_true(json_is_false(json_object_get(held, "lost")));
	free(ack);

	assert_int_equal(fx->failures, 0);
	assert_json_eq(fx->result, "{'cniVersion': '1.1.0',"
				   " 'ips': [{'address': '192.0.2.100/24', 'gateway': '192.0.2.254'}],"
				   " 'routes': [{'dst': '0.0.0.0/0', 'gw': '192.0.2.254'}],"
				   " 'dns': {'nameservers': ['192.0.2.53']}}");
	assert_int_equal(fx->forgets + fx->ends, 0);
}

static void result_routes_carry_the_priority(void **state)
{
	struct fx *fx = *state;

	fx->spec.priority = 300;
	acquire(fx);
	assert_json_eq(json_object_get(fx->result, "routes"), "[{'dst': '0.0.0.0/0', 'gw': '192.0.2.254', 'priority': 300}]");
	assert_int_equal(json_integer_value(json_object_get(fx->record, "priority")), 300);
}

/* The plugin that was waiting puts the address on the pod itself: the daemon only ties
 * its lifetime to the lease, once it is there. */
static void answered_bind_only_sets_the_address_lifetime(void **state)
{
	struct fx *fx = *state;

	fx->answer_returns = true;
	acquire(fx);
	assert_int_equal(lease_deadline(fx->lease), T(100));
	/* The plugin has not added it yet: asked again 500 ms later. */
	script_push(&pod.lifetime, -ENOENT);
	trace_clear();
	fire(fx);
	assert_trace("lifetime:192.0.2.100/24=ENOENT");
	assert_int_equal(lease_deadline(fx->lease), T(600));
	fire(fx);
	assert_trace("lifetime:192.0.2.100/24=ENOENT lifetime:192.0.2.100/24");
	assert_string_equal(addr_call(1)->prefix, PREFIX);
	assert_int_equal(addr_call(1)->valid_s, LEASE_S); /* 999.4 s, rounded up */
	assert_int_equal(count_calls(ADDR_ENSURE), 0);
	/* Then nothing until T1. */
	assert_int_equal(lease_deadline(fx->lease), T1(fx->t0));
}

/* Nobody waited (the ADD gave up): the daemon puts the address on the pod itself. */
static void unanswered_bind_puts_the_address_on(void **state)
{
	struct fx *fx = *state;

	fx->answer_returns = false;
	acquire(fx);
	assert_int_equal(lease_deadline(fx->lease), fx->now);
	trace_clear();
	fire(fx);
	assert_trace("ensure:192.0.2.100/24");
	const struct addr_call *c = addr_call(0);
	assert_string_equal(c->gateway, ROUTER);
	assert_int_equal(c->n_routes, 1);
	assert_int_equal(c->valid_s, LEASE_S);
	assert_int_equal(count_calls(ADDR_LIFETIME), 0);
}

/* A send the kernel refuses for now (a full queue) is tried again 100, 200, 400 and
 * 800 ms later, not left to the engine's retransmission seconds away. */
static void a_send_refused_for_now_is_tried_again_shortly(void **state)
{
	struct fx *fx = *state;
	uint64_t start;

	fx_lease(fx);
	script_push(&pod.packet_send, -ENOBUFS);
	script_push(&pod.packet_send, -EAGAIN);
	start = fx->now;
	lease_start(fx->lease, fx->now);
	assert_trace("packet-socket packet-send=ENOBUFS");
	assert_int_equal(n_sent(), 0);
	trace_clear();
	assert_int_equal(fire(fx), start + 100);
	assert_trace("packet-send=EAGAIN");
	trace_clear();
	assert_int_equal(fire(fx), start + 100 + 200);
	assert_trace("packet:DHCPDISCOVER");
	assert_sent_type(sent(0), DHCPDISCOVER);
	/* Sent: the next timer is the engine's own retransmission. */
	trace_clear();
	fire(fx);
	assert_trace("packet:DHCPDISCOVER");
	assert_int_equal(n_sent(), 2);
}

/* Four times at most: then it waits for the engine's next message, as any loss. */
static void a_send_refused_every_time_is_given_up_after_four_more_tries(void **state)
{
	struct fx *fx = *state;
	uint64_t start;

	struct lease_spec spec = fx->spec;

	/* The engine's retransmission far enough not to come between the tries. */
	fx_client_config(fx, &spec.client);
	spec.client.timing.initial_ms = S(5); /* before the 10 s acquisition timeout */
	fx->lease = lease_new(&spec, &fx->loop, &fx_owner, fx);
	assert_non_null(fx->lease);
	pod.packet_send.otherwise = -ENOBUFS;
	start = fx->now;
	lease_start(fx->lease, fx->now);
	for (uint64_t wait = 100; wait <= 800; wait *= 2) {
		/* Before fire() moves the clock: C leaves the order of arguments open. */
		uint64_t due = fx->now + wait;
		assert_int_equal(fire(fx), due);
	}
	assert_true(lease_deadline(fx->lease) >= start + S(4));
	assert_int_equal(n_sent(), 0);
	pod.packet_send.otherwise = 0;
	fire(fx); /* the engine's retransmission */
	assert_sent_type(sent(0), DHCPDISCOVER);
}

static void acquisition_timeout_answers_with_the_story(void **state)
{
	struct fx *fx = *state;
	unsigned discovers = 0;

	fx_lease(fx);
	lease_start(fx->lease, fx->now);
	while (!lease_ended(fx->lease)) {
		if (discovers > 20)
			fail_msg("still acquiring after %u DHCPDISCOVERs", discovers);
		assert_int_equal(fx->answers, 0);
		const struct sent_dgram *d = sent(discovers++);
		assert_sent_type(d, DHCPDISCOVER);
		assert_broadcast(d);
		assert_int_equal(xid_of(d), xid_of(sent(0))); /* retransmissions keep the transaction */
		trace_clear();
		fire(fx);
	}
	assert_int_equal(n_sent(), discovers);
	assert_true(discovers >= 3);
	assert_int_equal(fx->now, T(10000));
	assert_trace("answer:failed ended");
	char story[128];
	snprintf(story, sizeof(story), "no DHCPOFFER after %u DHCPDISCOVERs in 10 s on eth0 (pod netns " FX_NETNS_PATH ")",
		 discovers);
	assert_cni_error(&fx->failure, CNI_ERR_DHCP, story);
	assert_contains(fx->failure.details, "master ens9");
	assert_int_equal(fx->answers, 1);
	assert_int_equal(fx->ends, 1);
	assert_int_equal(fx->saves + fx->forgets, 0);
	assert_true(lease_deadline(fx->lease) == UINT64_MAX);
	assert_false(packet_open());
}

/* ---- renewing ---- */

static void renewal_at_t1_is_unicast_and_hears_broadcast_naks(void **state)
{
	struct fx *fx = *state;

	acquire_and_sync(fx);
	fx->answer_returns = false; /* nobody waits for a renewal */
	trace_clear();
	assert_int_equal(fire(fx), T1(fx->t0));
	assert_state(fx, DHCP_STATE_RENEWING);
	assert_trace("packet-socket udp-socket udp:DHCPREQUEST");
	const struct sent_dgram *request = last_sent();
	assert_sent_type(request, DHCPREQUEST);
	assert_unicast(request);
	assert_ciaddr(request, ADDR);
	assert_option_absent(request->msg, DHCP_OPTION_REQUESTED_IP_ADDRESS);
	assert_option_absent(request->msg, DHCP_OPTION_SERVER_IDENTIFIER);
	assert_int_not_equal(xid_of(request), xid_of(sent(0)));
	/* The packet socket listens too (a server broadcasts its DHCPNAK), filtered to the
	 * renewal's transaction. */
	assert_true(udp_open());
	struct fake_sock *packet = open_sock(FAKE_PACKET);
	assert_non_null(packet);
	assert_int_equal(packet->xid, xid_of(request));

	trace_clear();
	fx->now += 40;
	reply_ack(fx);
	assert_trace("save answer:ok");
	assert_state(fx, DHCP_STATE_BOUND);
	assert_int_equal(fx->saves, 2);
	char *ack = reply_hex(fx);
	assert_string_equal(json_string_value(json_object_get(json_object_get(fx->record, "lease"), "ack")), ack);
	free(ack);
	assert_false(packet_open());
	assert_false(udp_open());
	/* The lifetime follows: a whole lease again, counted from the renewal's REQUEST. */
	trace_clear();
	fire(fx);
	assert_trace("ensure:192.0.2.100/24");
	assert_int_equal(addr_call(pod.n_calls - 1)->valid_s, LEASE_S);
	assert_int_equal(lease_deadline(fx->lease), T1(T1(fx->t0)));
}

/* No server answers: unicast renewals until T2, broadcast rebinding until the end of
 * the lease, then the address comes off the pod and the lease is sought anew (the pod
 * still needs one: nobody is told, nothing ends). */
static void expiry_takes_the_address_off_and_starts_over(void **state)
{
	struct fx *fx = *state;

	acquire_and_sync(fx);
	trace_clear();
	while (lease_state(fx->lease) != DHCP_STATE_REBINDING)
		fire(fx);
	assert_int_equal(fx->now, T2(fx->t0));
	const struct sent_dgram *rebind = last_sent();
	assert_sent_type(rebind, DHCPREQUEST);
	assert_via(rebind, VIA_PACKET);
	assert_ciaddr(rebind, ADDR);
	assert_addr_equal(rebind->dst, "255.255.255.255");
	assert_option_absent(rebind->msg, DHCP_OPTION_REQUESTED_IP_ADDRESS);
	assert_false(udp_open());
	assert_int_equal(count_calls(ADDR_REMOVE), 0);
	while (lease_state(fx->lease) == DHCP_STATE_REBINDING)
		fire(fx);
	assert_int_equal(fx->now, T(S(LEASE_S)));
	assert_contains(pod.trace, "packet:DHCPDISCOVER remove:192.0.2.100/24");
	assert_int_equal(count_calls(ADDR_REMOVE), 1);
	assert_state(fx, DHCP_STATE_SELECTING);
	assert_null(lease_held(fx->lease));
	assert_int_equal(fx->answers, 1);
	assert_int_equal(fx->forgets + fx->ends, 0);
}

/* A packet socket that could not be opened at T1 is tried again with the renewal's
 * next message: a broadcast DHCPNAK is heard from then on. */
/* With the server's MAC known from its DHCPACK, a renewal's first DHCPREQUEST is
 * framed to it (no ARP in the pod's namespace); a retransmission takes the kernel's
 * path, in case the server's MAC changed. */
static void renewal_goes_first_to_the_servers_mac_then_through_the_kernel(void **state)
{
	struct fx *fx = *state;

	bind_from_server_mac(fx);
	fire(fx);
	fx->answer_returns = false;
	trace_clear();
	assert_int_equal(fire(fx), T1(fx->t0));
	assert_trace("packet-socket udp-socket packet:DHCPREQUEST");
	const struct sent_dgram *first = last_sent();
	assert_sent_type(first, DHCPREQUEST);
	assert_ciaddr(first, ADDR);
	uint32_t xid = xid_of(first);
	trace_clear();
	fire(fx);
	assert_trace("udp:DHCPREQUEST");
	assert_int_equal(xid_of(last_sent()), xid);
}

static void renewal_retries_the_packet_socket_at_its_next_message(void **state)
{
	struct fx *fx = *state;

	acquire_and_sync(fx);
	pod.packet_socket.otherwise = -EMFILE;
	trace_clear();
	fire(fx);
	/* Tried before the DHCPREQUEST goes out, and again once it is out. */
	assert_trace("packet-socket=EMFILE udp-socket udp:DHCPREQUEST packet-socket=EMFILE");
	assert_false(packet_open());
	uint32_t xid = xid_of(last_sent());
	pod.packet_socket.otherwise = 0;
	trace_clear();
	/* The renewal's first retransmission: the initial retransmission delay on
	 * (client.c, renew_retry_at). */
	assert_int_equal(fire(fx), T1(fx->t0) + lease_client_config(fx->lease)->timing.initial_ms);
	assert_trace("packet-socket udp:DHCPREQUEST");
	assert_state(fx, DHCP_STATE_RENEWING);
	assert_int_equal(xid_of(last_sent()), xid);
	struct fake_sock *packet = open_sock(FAKE_PACKET);
	assert_non_null(packet);
	assert_int_equal(packet->xid, xid);
	assert_true(udp_open());
}

static void nak_while_renewing_takes_the_address_off_and_saves_it_lost(void **state)
{
	struct fx *fx = *state;

	renew(fx);
	char *first_ack = strdup(json_string_value(json_object_get(json_object_get(fx->record, "lease"), "ack")));
	trace_clear();
	reply_nak(fx);
	assert_trace("packet:DHCPREQUEST remove:192.0.2.100/24 save");
	assert_state(fx, DHCP_STATE_REBOOTING);
	assert_null(lease_held(fx->lease));
	assert_non_null(lease_last(fx->lease));
	/* RFC 2131 4.4.2: asks for the same address again, broadcast, from nowhere. */
	const struct sent_dgram *request = last_sent();
	assert_broadcast(request);
	assert_ciaddr(request, "0.0.0.0");
	assert_option_addr(request->msg, DHCP_OPTION_REQUESTED_IP_ADDRESS, ADDR);
	assert_option_absent(request->msg, DHCP_OPTION_SERVER_IDENTIFIER);
	assert_false(udp_open());
	/* The record says so, and keeps the lease the server refused. */
	json_t *held = json_object_get(fx->record, "lease");
	assert_true(json_is_true(json_object_get(held, "lost")));
	assert_string_equal(json_string_value(json_object_get(held, "ack")), first_ack);
	free(first_ack);
	assert_int_equal(fx->answers, 1); /* the bind's */
	assert_int_equal(fx->forgets + fx->ends, 0);
}

static void broadcast_nak_on_the_packet_socket_is_heard_while_renewing(void **state)
{
	struct fx *fx = *state;

	renew(fx);
	trace_clear();
	deliver_on_packet(fx, DHCPNAK);
	assert_trace("packet:DHCPREQUEST remove:192.0.2.100/24 save");
	assert_state(fx, DHCP_STATE_REBOOTING);
}

/* The leased address was taken off the pod: put back (the server answers a renewal
 * to it), then the renewal goes out unicast. */
static void renewal_puts_a_removed_address_back(void **state)
{
	struct fx *fx = *state;

	acquire_and_sync(fx);
	script_push(&pod.udp_socket, -EADDRNOTAVAIL);
	trace_clear();
	fire(fx);
	assert_trace("packet-socket udp-socket=EADDRNOTAVAIL ensure:192.0.2.100/24 udp-socket udp:DHCPREQUEST");
	const struct addr_call *c = addr_call(pod.n_calls - 1);
	assert_int_equal(c->valid_s, LEASE_S / 2); /* to the end of the lease */
	assert_string_equal(c->gateway, ROUTER);
	const struct sent_dgram *request = last_sent();
	assert_unicast(request);
	assert_ciaddr(request, ADDR);
	assert_state(fx, DHCP_STATE_RENEWING);
}

/* Still no way out from the leased address: the same DHCPREQUEST, broadcast. */
static void renewal_is_broadcast_when_the_address_stays_unusable(void **state)
{
	struct fx *fx = *state;

	acquire_and_sync(fx);
	script_push(&pod.udp_socket, -EADDRNOTAVAIL);
	script_push(&pod.udp_socket, -EADDRNOTAVAIL);
	trace_clear();
	fire(fx);
	assert_trace("packet-socket udp-socket=EADDRNOTAVAIL ensure:192.0.2.100/24 udp-socket=EADDRNOTAVAIL "
		     "packet:DHCPREQUEST");
	const struct sent_dgram *request = last_sent();
	assert_via(request, VIA_PACKET);
	assert_int_equal(request->filter_xid, xid_of(request));
	assert_ciaddr(request, ADDR);
	assert_addr_equal(request->src, ADDR);
	assert_option_absent(request->msg, DHCP_OPTION_REQUESTED_IP_ADDRESS);
	assert_state(fx, DHCP_STATE_RENEWING);
	assert_false(udp_open());
	assert_true(packet_open());
}

static void renewal_is_broadcast_when_the_address_cannot_be_put_back(void **state)
{
	struct fx *fx = *state;

	acquire_and_sync(fx);
	script_push(&pod.udp_socket, -EADDRNOTAVAIL);
	script_push(&pod.ensure, -EPERM);
	trace_clear();
	fire(fx);
	assert_trace("packet-socket udp-socket=EADDRNOTAVAIL ensure:192.0.2.100/24=EPERM packet:DHCPREQUEST");
	assert_ciaddr(last_sent(), ADDR);
}

/* ---- the pod's address: sync ---- */

static void sync_finding_the_interface_gone_releases_through_the_master(void **state)
{
	struct fx *fx = *state;

	acquire(fx);
	script_push(&pod.lifetime, -ENODEV);
	trace_clear();
	fire(fx);
	assert_trace("lifetime:192.0.2.100/24=ENODEV forget master:DHCPRELEASE answer:failed ended");
	assert_true(lease_pod_gone(fx->lease));
	assert_true(lease_ended(fx->lease));
	const struct sent_dgram *release = last_sent();
	assert_sent_type(release, DHCPRELEASE);
	assert_string_equal(release->master, FX_MASTER);
	assert_addr_equal(release->src, ADDR);
	assert_addr_equal(release->dst, SERVER);
	assert_ciaddr(release, ADDR);
	assert_option_addr(release->msg, DHCP_OPTION_SERVER_IDENTIFIER, SERVER);
	assert_true(lease_deadline(fx->lease) == UINT64_MAX);
}

/* The address never shows up and the namespace is gone: the pod was deleted. */
static void sync_finding_the_netns_gone_releases_through_the_master(void **state)
{
	struct fx *fx = *state;

	acquire(fx);
	pod.lifetime.otherwise = -ENOENT;
	script_push(&pod.exists, -ENOENT);
	for (unsigned i = 0; !lease_ended(fx->lease); i++) {
		if (i == 50)
			fail_msg("still not released");
		fire(fx);
	}
	assert_int_equal(count_calls(ADDR_LIFETIME), 20);
	assert_contains(pod.trace, "lifetime:192.0.2.100/24=ENOENT exists=ENOENT forget master:DHCPRELEASE "
				   "answer:failed ended");
	assert_sent_type(last_sent(), DHCPRELEASE);
	assert_via(last_sent(), VIA_MASTER);
}

/* ... while the namespace is still there: it gives up on the address, not the lease. */
static void sync_gives_up_quietly_when_the_pod_is_still_there(void **state)
{
	struct fx *fx = *state;

	acquire(fx);
	pod.lifetime.otherwise = -ENOENT;
	for (unsigned i = 0; i < 20; i++)
		fire(fx);
	assert_int_equal(count_calls(ADDR_LIFETIME), 20);
	assert_contains(pod.trace, "exists");
	assert_false(lease_ended(fx->lease));
	assert_state(fx, DHCP_STATE_BOUND);
	assert_int_equal(lease_deadline(fx->lease), T1(fx->t0));
	assert_int_equal(fx->forgets, 0);
}

/* The server hands out another address after a DHCPNAK: the pod moves (the old
 * address and its routes first). */
static void a_new_address_after_a_nak_moves_the_pod(void **state)
{
	struct fx *fx = *state;

	renew(fx);
	reply_nak(fx);
	assert_state(fx, DHCP_STATE_REBOOTING);
	reply_nak(fx); /* not that one either: DHCPDISCOVER */
	assert_sent_type(last_sent(), DHCPDISCOVER);
	fx->offer_addr = "192.0.2.101";
	fx->answer_returns = false;
	reply_offer(fx);
	trace_clear();
	reply_ack(fx);
	/* The node's hostReach route to the pod, if it has one, follows. */
	assert_trace("save answer:ok remove:192.0.2.100/24 ensure:192.0.2.101/24 host-route:ens9:192.0.2.100>192.0.2.101");
	assert_json_eq(json_object_get(fx->result, "ips"), "[{'address': '192.0.2.101/24', 'gateway': '192.0.2.254'}]");
	assert_true(json_is_false(json_object_get(json_object_get(fx->record, "lease"), "lost")));
}

/* ---- ARP probes (ipam.arpProbe) ---- */

static void probe_without_answer_binds_after_three_probes_then_announces(void **state)
{
	struct fx *fx = *state;
	uint8_t want[ACD_ARP_LEN];

	fx->spec.arp_probe_ms = 300;
	acquire(fx);
	assert_state(fx, DHCP_STATE_GRANTED);
	assert_false(lease_bound(fx->lease));
	assert_non_null(lease_held(fx->lease));
	assert_contains(pod.trace, "packet:DHCPREQUEST arp-socket arp:probe");
	assert_int_equal(fx->answers + fx->saves, 0);
	assert_int_equal(lease_deadline(fx->lease), T(100));
	trace_clear();
	fire(fx);
	assert_trace("arp:probe");
	assert_int_equal(lease_deadline(fx->lease), T(200));
	fire(fx);
	assert_trace("arp:probe arp:probe");
	assert_int_equal(fx->answers, 0);
	assert_int_equal(lease_deadline(fx->lease), T(300));
	fire(fx);
	/* The window ended in silence: bound, answered, announced. */
	assert_trace("arp:probe arp:probe save answer:ok arp:announce");
	assert_state(fx, DHCP_STATE_BOUND);
	assert_int_equal(pod.n_arp, 4);
	acd_probe_build(want, test_mac, ip4(ADDR));
	for (size_t i = 0; i < 3; i++) {
		assert_memory_equal(pod.arp[i].data, want, ACD_ARP_LEN);
		assert_int_equal(pod.arp[i].ifindex, FX_IFINDEX);
	}
	acd_announcement_build(want, test_mac, ip4(ADDR));
	assert_memory_equal(pod.arp[3].data, want, ACD_ARP_LEN);
	/* The second announcement 2 s later, then the socket closes. */
	trace_clear();
	run_until(fx, T(2300));
	assert_trace("lifetime:192.0.2.100/24 arp:announce");
	assert_memory_equal(pod.arp[4].data, want, ACD_ARP_LEN);
	assert_false(arp_open());
	assert_int_equal(lease_deadline(fx->lease), T1(fx->t0));
}

static void probe_conflict_declines_and_starts_over(void **state)
{
	struct fx *fx = *state;

	fx->spec.arp_probe_ms = 300;
	acquire(fx);
	assert_state(fx, DHCP_STATE_GRANTED);
	trace_clear();
	arp_reply_from_holder(fx);
	assert_trace("packet-socket packet:DHCPDECLINE");
	const struct sent_dgram *decline = last_sent();
	assert_broadcast(decline);
	assert_ciaddr(decline, "0.0.0.0");
	assert_option_equal(decline->msg, DHCP_OPTION_MESSAGE, "in use by 02:00:00:00:00:99", 27);
	assert_option_addr(decline->msg, DHCP_OPTION_REQUESTED_IP_ADDRESS, ADDR);
	assert_option_addr(decline->msg, DHCP_OPTION_SERVER_IDENTIFIER, SERVER);
	assert_state(fx, DHCP_STATE_INIT);
	assert_null(lease_held(fx->lease));
	assert_false(arp_open());
	/* Nobody hears of it yet: the ADD waits for another address. */
	assert_int_equal(fx->answers + fx->saves + fx->ends, 0);
	/* ... until the acquisition times out, and then the failure says why. */
	while (!lease_ended(fx->lease))
		fire(fx);
	assert_cni_error(&fx->failure, CNI_ERR_DHCP, "1 DHCPACK declined in 10 s, the address in use; last " ADDR
						     ": in use by 02:00:00:00:00:99");
}

static void probe_socket_failure_takes_the_address_unchecked(void **state)
{
	struct fx *fx = *state;

	fx->spec.arp_probe_ms = 300;
	script_push(&pod.arp_socket, -EPERM);
	fx_lease(fx);
	lease_start(fx->lease, fx->now);
	reply_offer(fx);
	trace_clear();
	reply_ack(fx);
	assert_trace("arp-socket=EPERM save answer:ok");
	assert_state(fx, DHCP_STATE_BOUND);
	assert_int_equal(pod.n_arp, 0);
	assert_int_equal(lease_deadline(fx->lease), T(100)); /* the sync, no probe */
}

static void probes_that_cannot_be_sent_still_end_the_window(void **state)
{
	struct fx *fx = *state;

	fx->spec.arp_probe_ms = 300;
	pod.arp_send.otherwise = -ENETDOWN;
	acquire(fx);
	trace_clear();
	run_until(fx, T(300));
	assert_trace("arp:probe=ENETDOWN arp:probe=ENETDOWN save answer:ok arp:announce=ENETDOWN");
	assert_state(fx, DHCP_STATE_BOUND);
}

/* ---- DEL ---- */

static void release_while_requesting_sends_nothing(void **state)
{
	struct fx *fx = *state;

	fx_lease(fx);
	lease_start(fx->lease, fx->now);
	reply_offer(fx);
	assert_state(fx, DHCP_STATE_REQUESTING);
	trace_clear();
	lease_release(fx->lease, fx->now, "DEL");
	/* The record first, then the waiting ADD hears of it. Nothing was held: no
	 * DHCPRELEASE. */
	assert_trace("forget answer:failed ended");
	assert_int_equal(n_sent(), 2);
	assert_cni_error(&fx->failure, CNI_ERR_DHCP, FX_KEY ": released before a lease was bound");
	assert_int_equal(fx->saves, 0);
	assert_true(lease_ended(fx->lease));
	assert_true(lease_deadline(fx->lease) == UINT64_MAX);
	assert_false(packet_open());
	/* Late replies and timers do nothing. */
	reply_ack(fx);
	lease_release(fx->lease, fx->now, "DEL again");
	assert_trace("forget answer:failed ended");
}

static void release_while_bound_frames_it_to_the_server_after_forgetting(void **state)
{
	struct fx *fx = *state;

	acquire_and_sync(fx);
	trace_clear();
	lease_release(fx->lease, fx->now, "DEL");
	/* A frame to the link's broadcast address, its IP header from the leased address
	 * to the server on the pod's subnet: no ARP to wait for before the DEL returns. */
	assert_trace("forget packet-socket packet:DHCPRELEASE answer:failed ended");
	const struct sent_dgram *release = last_sent();
	assert_sent_type(release, DHCPRELEASE);
	assert_via(release, VIA_PACKET);
	assert_addr_equal(release->src, ADDR);
	assert_addr_equal(release->dst, SERVER);
	assert_ciaddr(release, ADDR);
	assert_int_equal(release->msg->header.secs, 0);
	assert_option_addr(release->msg, DHCP_OPTION_SERVER_IDENTIFIER, SERVER);
	assert_option_absent(release->msg, DHCP_OPTION_REQUESTED_IP_ADDRESS);
	assert_false(udp_open());
	assert_false(packet_open());
	assert_int_equal(fx->ends, 1);
}

/* A server off the pod's subnet (behind a relay) is reached through the pod's router:
 * the release goes unicast, from the UDP socket. */
static void release_to_a_server_off_the_subnet_is_unicast(void **state)
{
	struct fx *fx = *state;

	fx->offer_addr = "198.51.100.100";
	acquire_and_sync(fx);
	trace_clear();
	lease_release(fx->lease, fx->now, "DEL");
	assert_trace("forget udp-socket udp:DHCPRELEASE answer:failed ended");
	const struct sent_dgram *release = last_sent();
	assert_via(release, VIA_UDP);
	assert_addr_equal(release->dst, SERVER);
	assert_ciaddr(release, "198.51.100.100");
}

/* A DEL after the pod's namespace went: the release still reaches the server, out of
 * the node's master, and the lease is the pod-less kind from then on. */
static void release_of_a_pod_gone_goes_through_the_master(void **state)
{
	struct fx *fx = *state;

	acquire_and_sync(fx);
	script_push(&pod.packet_socket, -ENOENT);
	trace_clear();
	lease_release(fx->lease, fx->now, "DEL");
	assert_trace("forget packet-socket=ENOENT master:DHCPRELEASE answer:failed ended");
	const struct sent_dgram *release = last_sent();
	assert_via(release, VIA_MASTER);
	assert_string_equal(release->master, FX_MASTER);
	assert_addr_equal(release->dst, SERVER);
	assert_ciaddr(release, ADDR);
	assert_true(lease_pod_gone(fx->lease));
}

/* A pod deleted without a DEL and a new pod at the same path: when the lease's next
 * timer comes, nothing is said from the newcomer's namespace; the lease is released
 * through the master. */
static void a_new_namespace_at_the_pods_path_is_not_the_pod(void **state)
{
	struct fx *fx = *state;

	acquire_and_sync(fx);
	pod.netns_ino = FX_NETNS_INO + 1;
	trace_clear();
	assert_int_equal(fire(fx), T1(fx->t0));
	assert_trace("forget master:DHCPRELEASE answer:failed ended");
	assert_true(lease_pod_gone(fx->lease));
	assert_int_equal(count_calls(ADDR_ENSURE), 0);
}

/* A DEL during the probe: the granted address goes back to the server before the
 * waiting ADD hears of it (its plugin then deletes the interface the DHCPRELEASE
 * leaves from). */
static void release_during_the_probe_gives_the_grant_back(void **state)
{
	struct fx *fx = *state;

	fx->spec.arp_probe_ms = 300;
	acquire(fx);
	assert_state(fx, DHCP_STATE_GRANTED);
	trace_clear();
	lease_release(fx->lease, fx->now, "DEL");
	assert_trace("forget packet-socket packet:DHCPRELEASE answer:failed ended");
	const struct sent_dgram *release = last_sent();
	assert_ciaddr(release, ADDR);
	assert_option_addr(release->msg, DHCP_OPTION_SERVER_IDENTIFIER, SERVER);
	assert_false(arp_open());
	assert_false(packet_open());
	assert_int_equal(fx->saves, 0);
	assert_true(lease_deadline(fx->lease) == UINT64_MAX);
}

/* ipam.identity "pod": a DEL (or a pod gone) ends the lease without DHCPRELEASE, so
 * that the server still binds the address to the pod's identifier when the pod comes
 * back under its name. The record goes as for any release. */
static void release_of_a_pods_identity_sends_nothing(void **state)
{
	struct fx *fx = *state;

	fx->spec.identity = DHCP_IDENTITY_POD;
	acquire_and_sync(fx);
	size_t before = n_sent();
	trace_clear();
	lease_release(fx->lease, fx->now, "DEL");
	assert_trace("forget answer:failed ended");
	assert_int_equal(n_sent(), before);
	assert_true(lease_ended(fx->lease));
	assert_false(packet_open());
	assert_false(udp_open());
}

/* A pod recreated under its name takes over the identifier of a lease whose pod is
 * gone (ipam.identity "pod"): no DHCPRELEASE, or the server would free the address the
 * successor is about to ask for with the same identifier; the record is forgotten
 * first, so that a restart does not bring back two leases of one identifier. */
static void hand_over_ends_the_lease_without_a_release(void **state)
{
	struct fx *fx = *state;

	acquire_and_sync(fx);
	size_t before = n_sent();
	trace_clear();
	lease_hand_over(fx->lease, "ctr-2/lan/eth0");
	assert_trace("forget answer:failed ended");
	assert_int_equal(fx->forgets, 1);
	assert_int_equal(n_sent(), before);
	assert_cni_error(&fx->failure, CNI_ERR_DHCP, FX_KEY ": its client identifier was handed over to ctr-2/lan/eth0");
	assert_true(lease_ended(fx->lease));
	assert_true(lease_deadline(fx->lease) == UINT64_MAX);
	assert_false(packet_open());
	assert_false(udp_open());
	/* A DEL that finds it still: nothing more goes out. */
	lease_release(fx->lease, fx->now, "DEL");
	assert_int_equal(n_sent(), before);
	assert_int_equal(fx->ends, 1);
}

static void stop_keeps_the_lease_and_closes_the_sockets(void **state)
{
	struct fx *fx = *state;

	renew(fx);
	size_t before = n_sent();
	trace_clear();
	lease_stop(fx->lease);
	assert_trace("");
	assert_int_equal(n_sent(), before);
	assert_false(packet_open());
	assert_false(udp_open());
	assert_int_equal(fx->forgets + fx->ends, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(acquire_broadcasts_then_saves_and_answers_with_the_result),
		FX_TEST(result_routes_carry_the_priority),
		FX_TEST(answered_bind_only_sets_the_address_lifetime),
		FX_TEST(unanswered_bind_puts_the_address_on),
		FX_TEST(acquisition_timeout_answers_with_the_story),
		FX_TEST(renewal_at_t1_is_unicast_and_hears_broadcast_naks),
		FX_TEST(expiry_takes_the_address_off_and_starts_over),
		FX_TEST(renewal_goes_first_to_the_servers_mac_then_through_the_kernel),
		FX_TEST(renewal_retries_the_packet_socket_at_its_next_message),
		FX_TEST(a_send_refused_for_now_is_tried_again_shortly),
		FX_TEST(a_send_refused_every_time_is_given_up_after_four_more_tries),
		FX_TEST(nak_while_renewing_takes_the_address_off_and_saves_it_lost),
		FX_TEST(broadcast_nak_on_the_packet_socket_is_heard_while_renewing),
		FX_TEST(renewal_puts_a_removed_address_back),
		FX_TEST(renewal_is_broadcast_when_the_address_stays_unusable),
		FX_TEST(renewal_is_broadcast_when_the_address_cannot_be_put_back),
		FX_TEST(sync_finding_the_interface_gone_releases_through_the_master),
		FX_TEST(sync_finding_the_netns_gone_releases_through_the_master),
		FX_TEST(sync_gives_up_quietly_when_the_pod_is_still_there),
		FX_TEST(a_new_address_after_a_nak_moves_the_pod),
		FX_TEST(probe_without_answer_binds_after_three_probes_then_announces),
		FX_TEST(probe_conflict_declines_and_starts_over),
		FX_TEST(probe_socket_failure_takes_the_address_unchecked),
		FX_TEST(probes_that_cannot_be_sent_still_end_the_window),
		FX_TEST(release_while_requesting_sends_nothing),
		FX_TEST(release_while_bound_frames_it_to_the_server_after_forgetting),
		FX_TEST(hand_over_ends_the_lease_without_a_release),
		FX_TEST(release_of_a_pods_identity_sends_nothing),
		FX_TEST(release_to_a_server_off_the_subnet_is_unicast),
		FX_TEST(release_of_a_pod_gone_goes_through_the_master),
		FX_TEST(a_new_namespace_at_the_pods_path_is_not_the_pod),
		FX_TEST(release_during_the_probe_gives_the_grant_back),
		FX_TEST(stop_keeps_the_lease_and_closes_the_sockets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
