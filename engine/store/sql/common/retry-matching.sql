{{back-to-pending}}{{where}}
