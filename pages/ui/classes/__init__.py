"""The class features: what a class session, a lesson, a link or a shared screen adds to the pages.

Membership (`classroom`: joining, starting, leaving, who this session is) and the seat a browser
keeps (`seat`), the class panel in the frame's popover (`panel`) and the teacher's Ready check
(`ready`), the class strip on every page (`strip`: follow the teacher, polls), the lesson bar
(`lesson`), the results board (`board`), the page's state in its URL (`links`) and the share dialog
with the projector view (`share`). The store they draw lives in `cnnlib.classroom`, the link
schemas and lessons in `cnnlib.share`. Nothing is re-exported here: import each module by its own
name.
"""
