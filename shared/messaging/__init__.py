"""Messaging on NATS JetStream: streams, subjects, publishing, consuming."""
