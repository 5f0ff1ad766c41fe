/* wr_history.c - placeholder until the module lands. */
