/* libFuzzer: a frame from the packet socket, through IPv4/UDP unframing and the
 * client state machine in every state that expects replies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp4/client.h"
#include "dhcp4/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t fixed_random(void *ctx)
{
	(void)ctx;
	return 0x12345678;
}

/* A logger, so the engine formats every line it would log. */
static void quiet_log(void *ctx, int priority, const char *message)
{
	(void)ctx;
	(void)priority;
	(void)message;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *payload;
	size_t len;
	struct dhcp_client_config config = { .mac = { 2, 0, 0, 0, 0, 1 }, .client_id = malloc(2), .client_id_len = 2 };
	static struct dhcp_client client;
	struct dhcp_output out;
	struct dhcp_event ev;

	if (!config.client_id || size < 1 ||
	    dhcp_packet_unframe(data + 1, size - 1, data[0] & 1, &payload, &len) != DHCP_PACKET_OK) {
		free(config.client_id);
		return 0;
	}
	memcpy(config.client_id, "\0x", 2);
	/* The first octet picks how far the client got before this reply arrives. */
	dhcp_client_init(&client, &config, fixed_random, quiet_log, NULL);
	if (data[0] & 2)
		dhcp_client_start_reboot(&client, 1000, (struct in_addr){ 0x0100000a });
	else
		dhcp_client_start(&client, 1000);
	dhcp_client_receive(&client, 2000, payload, len);
	dhcp_client_accept(&client, 2000);
	dhcp_client_tick(&client, dhcp_client_deadline(&client));
	dhcp_client_receive(&client, dhcp_client_deadline(&client), payload, len);
	while (dhcp_client_pop_output(&client, &out) || dhcp_client_pop_event(&client, &ev))
		;
	dhcp_client_release(&client, 5000);
	dhcp_client_free(&client);
	return 0;
}
