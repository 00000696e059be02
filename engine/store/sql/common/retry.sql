{{back-to-pending}} WHERE status = 'failed' AND id IN {{id-list}}
