"""Flyte-style example programs, kept in a package as Flyte projects are: the entities here are
named by their package path (`flyte_basics.pipelines.sales_report`)."""
