/* wr_engine.c - placeholder until the module lands. */
