# The etcd3 DistributedConfig example of the project's seed document (shared/seed/
# 000_3a6b90aa9e443795.txt, section "Modern Consensus Systems", "1. Etcd (Raft-based)"), copied
# byte for byte below the marker line, trailing spaces included. Do not edit it: the point of
# test_distributed_config.py is that the seed's code works unchanged against Synod, and that test
# checks the copy still matches the seed whenever the seed file is present.
# --- verbatim from the seed below this line ---
# Example: Using etcd for distributed configuration
import etcd3

class DistributedConfig:
    def __init__(self, endpoints):
        self.etcd = etcd3.client(host='localhost', port=2379)
    
    def put_config(self, key, value):
        return self.etcd.put(key, value)
    
    def get_config(self, key):
        value, metadata = self.etcd.get(key)
        return value.decode('utf-8') if value else None
    
    def watch_config(self, key, callback):
        events_iterator, cancel = self.etcd.watch(key)
        for event in events_iterator:
            callback(event)
