"""Warning instructions (预警指令): intake, triage (研判分级), address matching and dispatch (分流)."""
