// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* main.c - placeholder */
int main(void)
{
	return 0;
}
