"""回访: scheduled re-contact of warned people and of every victim of a filed case, with its states, the 宣防漏洞 found
and the escalation of an overdue one."""
