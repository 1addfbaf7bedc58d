"""Dispatch policy (分流与调度): what a dissuader takes next and who takes a first contact, one policy for the live
我的任务 and the replay simulator."""
