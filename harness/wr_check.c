/* wr_check.c - placeholder until the module lands. */
