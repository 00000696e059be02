SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1
