/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ctl_client.h - `esper-xdp ctl [--socket PATH] [COMMAND...]`: sends one command (the
 * words given, a ';' added if missing) or, without words, every command of standard input
 * to the control socket of a running esper-xdp (ctl_sock.h), and prints the answers:
 * listings on standard output, errors on standard error, acknowledgements ("ok") not at
 * all. The exit status: 0 if every command took effect, 1 if one was refused, 2 if the
 * socket could not be reached or the answer was cut short.
 */
#ifndef ESPER_CTL_CLIENT_H
#define ESPER_CTL_CLIENT_H

/* argv: the command's words (argc of them; none: read standard input). */
int ctl_client_run(const char *path, int argc, char **argv);

#endif
