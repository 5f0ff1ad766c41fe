/* wr_scenario.c - placeholder until the module lands. */
