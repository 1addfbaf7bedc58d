"""串并案: cases and warnings linked by a shared counterparty identifier or a blocklisted one."""
