"""Amazon's Selling Partner API as we speak it: the client, its rate limiter, the order payload
reader, the feed XML, the marketplaces and the carrier codes Amazon accepts."""
