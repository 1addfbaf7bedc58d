"""宣防漏洞 (prevention gaps): where outreach missed a victim before the case, its pages and API."""
