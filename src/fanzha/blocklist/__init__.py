"""举报与黑名单: reports from the public app reviewed by the centre, and the blocklist the checker consults."""
