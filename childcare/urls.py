"""Pages of the care station, under /childcare/ (namespace "childcare")."""


app_name = "childcare"

urlpatterns = []
