"""The Dinas review: the one service that decides on a submission, region scope, officers and their
notifications. Channel-free and front-door-free: the chat and the console both call it."""
