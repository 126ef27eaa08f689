/* `dhcp doctor`: whether macvlan + dhcp can work on this node, check by check, for an
 * operator (docs/doctor.md). */
#pragma once

/* argv[0] is "doctor". 0: every check ok or a warning; 1: one failed; 2: bad usage. */
int doctor_main(int argc, char **argv);
