"""Domain rules, written once and called by views and commands alike."""
