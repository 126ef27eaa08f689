/* `dhcp daemon`: the node daemon that holds the pods' leases. */
#pragma once

int daemon_main(int argc, char **argv);
