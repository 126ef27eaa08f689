/* `dhcp status` and `dhcp list`: ask a running daemon, for an operator on the node. */
#pragma once

/* argv[0] is "status" or "list". */
int query_main(int argc, char **argv);
