"""Amazon's notifications: ORDER_CHANGE and FEED_PROCESSING_FINISHED pushed to an SQS queue.

Polling stays the backstop (SQS is at least once, unordered and sometimes a day late; Amazon
does not say whether new orders notify): a notification only makes us look again sooner.

- setup.py: destinations (grantless, one per application, endpoint and queue) and the sellers'
  subscriptions, made at connect and reauthorize, removed at disconnect.
- messages.py: a queue message parsed and checked against Amazon's schemas.
- consumer.py: the supervised process that long-polls the queue, records each notification once
  by its NotificationId, hands the work to Celery and deletes the message.
- queues.py: SQS as we use it: the queue, its dead-letter queue and Amazon's send permission
  (`manage.py notifications_queue_create`), and the queues' status for /healthz and admin.
- handling.py: the work: an ORDER_CHANGE re-reads the order with getOrder (coalesced), a
  FEED_PROCESSING_FINISHED settles the feed at once.
"""
