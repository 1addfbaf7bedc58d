"""移交审核: a warning handed to another station waits for the receiver to accept (接收) or return (退回) it."""
