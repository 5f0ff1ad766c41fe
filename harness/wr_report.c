/* wr_report.c - placeholder until the module lands. */
