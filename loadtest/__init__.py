"""Load test for CNN Classroom: a websocket client, the runner, memory sampling, a bare app."""
